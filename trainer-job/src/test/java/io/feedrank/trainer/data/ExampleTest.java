package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import io.feedrank.trainer.SimData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A training example the trainer cannot learn from is refused, naming the field: a feature that is
 * not finite (its column's fitted mean became NaN and the run failed as a divergence) and an hour
 * of day or day of week out of range (the vectorizer refused it mid-run, uncaught). The example
 * sources count it as unusable and skip it.
 */
class ExampleTest {
  static final TrainingExample GOOD = SimData.avro(1).get(0);

  private static TrainingExample withUser(int index, double value) {
    List<Double> user = new ArrayList<>(GOOD.getUserFeatures());
    user.set(index, value);
    return TrainingExample.newBuilder(GOOD).setUserFeatures(user).build();
  }

  private static TrainingExample withCross(int index, double value) {
    List<Double> cross = new ArrayList<>(GOOD.getCrossFeatures());
    cross.set(index, value);
    return TrainingExample.newBuilder(GOOD).setCrossFeatures(cross).build();
  }

  @Test
  void aFeatureThatIsNotFiniteIsRefusedNamingIt() {
    String id = GOOD.getInteractionId().toString();
    assertThatThrownBy(() -> Example.of(withUser(0, Double.NaN)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "training example "
                + id
                + ": user_features[0] ("
                + FeatureSchema.USER.get(0)
                + ") must be finite and within a float's range, was NaN");
    int last = FeatureSchema.CROSS.size() - 1;
    assertThatThrownBy(() -> Example.of(withCross(last, Double.POSITIVE_INFINITY)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "training example "
                + id
                + ": cross_features["
                + last
                + "] ("
                + FeatureSchema.CROSS.get(last)
                + ") must be finite and within a float's range, was Infinity");
    List<Double> item = new ArrayList<>(GOOD.getItemFeatures());
    item.set(1, Double.NEGATIVE_INFINITY);
    assertThatThrownBy(
            () -> Example.of(TrainingExample.newBuilder(GOOD).setItemFeatures(item).build()))
        .hasMessageContaining("item_features[1]")
        .hasMessageEndingWith("must be finite and within a float's range, was -Infinity");
  }

  /**
   * A finite double beyond a float's range is refused too: the vectorizer takes a rate or share as
   * it is, and its float is an infinity, with the same NaN standardisation as an infinite feature.
   */
  @Test
  void aFeatureBeyondAFloatsRangeIsRefused() {
    int rate =
        FeatureSchema.USER.indexOf(
            FeatureSchema.USER.stream().filter(n -> n.contains("_ctr_")).findFirst().orElseThrow());
    assertThat((float) 1e39).isInfinite(); // what the vectorizer made of it
    assertThatThrownBy(() -> Example.of(withUser(rate, 1e39)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("user_features[" + rate + "]")
        .hasMessageEndingWith("must be finite and within a float's range, was 1.0E39");
    assertThat(Example.of(withUser(rate, Float.MAX_VALUE)).user()[rate]).isEqualTo(Float.MAX_VALUE);
  }

  @Test
  void anHourOfDayOrDayOfWeekOutOfRangeIsRefusedNamingIt() {
    String id = GOOD.getInteractionId().toString();
    for (int hour : new int[] {-1, 24}) {
      assertThatThrownBy(
              () -> Example.of(TrainingExample.newBuilder(GOOD).setHourOfDay(hour).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("training example " + id + ": hour_of_day must be 0-23, was " + hour);
    }
    for (int day : new int[] {0, 8}) {
      assertThatThrownBy(
              () -> Example.of(TrainingExample.newBuilder(GOOD).setDayOfWeek(day).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("training example " + id + ": day_of_week must be 1-7, was " + day);
    }
  }

  @Test
  void theEdgesOfTheRangesAndAnyFiniteFeatureAreKept() {
    TrainingExample edges =
        TrainingExample.newBuilder(withUser(0, -Float.MAX_VALUE))
            .setHourOfDay(23)
            .setDayOfWeek(7)
            .build();
    Example e = Example.of(edges);
    assertThat(e.hourOfDay()).isEqualTo(23);
    assertThat(e.dayOfWeek()).isEqualTo(7);
    assertThat(e.user()[0]).isEqualTo(-Float.MAX_VALUE);
    assertThat(Example.of(TrainingExample.newBuilder(GOOD).setHourOfDay(0).setDayOfWeek(1).build()))
        .isNotNull();
  }
}
