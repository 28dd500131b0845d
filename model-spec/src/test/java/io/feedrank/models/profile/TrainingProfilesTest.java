package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TrainingProfilesTest {
  static final int USER = FeatureSchema.USER.size();
  static final int ITEM = FeatureSchema.ITEM.size();
  static final int CROSS = FeatureSchema.CROSS.size();

  @Test
  void profilesEveryRawFeatureByItsSchemaName() {
    List<TrainingExample> rows = new ArrayList<>();
    for (int row = 0; row < 4; row++) {
      // row r: user feature j = 100 r + j, item feature j = -j, cross feature j = r
      int r = row;
      rows.add(
          example(
              r,
              values(USER, j -> 100.0 * r + j),
              values(ITEM, j -> -j),
              values(CROSS, j -> r),
              r < 3 ? Device.MOBILE : Device.TABLET,
              r % 2 == 0 ? "news" : "sports",
              r * 6));
    }
    ReferenceProfile p = TrainingProfiles.of(rows, new float[] {0.5f, 0.25f, 0.75f, 1.0f});

    List<String> expectedNames = new ArrayList<>(FeatureSchema.USER);
    expectedNames.addAll(FeatureSchema.ITEM);
    expectedNames.addAll(FeatureSchema.CROSS);
    expectedNames.addAll(List.of("hour_of_day", "device", "item_category"));
    assertThat(p.getFeatures()).extracting(FeatureProfile::getName).isEqualTo(expectedNames);
    assertThat(p.getN()).isEqualTo(4);

    var byName =
        p.getFeatures().stream()
            .collect(Collectors.toMap(FeatureProfile::getName, Function.identity()));
    // user feature 2 over rows 0..3: 2, 102, 202, 302 → mean 152
    assertThat(byName.get(FeatureSchema.USER.get(2)).getMean()).isEqualTo(152.0);
    assertThat(byName.get(FeatureSchema.ITEM.get(3)).getMean()).isEqualTo(-3.0);
    assertThat(byName.get(FeatureSchema.CROSS.get(0)).getMean()).isEqualTo(1.5);
    assertThat(byName.get("hour_of_day").getMean()).isEqualTo(9.0); // 0, 6, 12, 18
    assertThat(byName.get("hour_of_day").getKind()).isEqualTo(DriftKind.NUMERIC);
    assertThat(byName.get("device").getKind()).isEqualTo(DriftKind.CATEGORICAL);
    assertThat(byName.get("device").getCategories()).containsExactly("MOBILE", "TABLET");
    assertThat(byName.get("device").getCategoryFractions()).containsExactly(0.75, 0.25);
    assertThat(byName.get("item_category").getCategoryFractions()).containsExactly(0.5, 0.5);
    assertThat(p.getScore().getKind()).isEqualTo(DriftKind.PREDICTION);
    assertThat(p.getScore().getMean()).isCloseTo(0.625, within(1e-12));
    assertThat(Bins.sketch(p.getScore()).getN()).isEqualTo(4);
  }

  @Test
  void withoutScoresThereIsNoScoreProfile() {
    ReferenceProfile p = TrainingProfiles.of(List.of(example(0), example(1)), null);
    assertThat(p.getScore()).isNull();
    assertThat(p.getN()).isEqualTo(2);
    ReferenceProfile empty = TrainingProfiles.of(Collections.emptyList(), new float[0]);
    assertThat(empty.getN()).isZero();
    // every feature a non-empty profile has, each without bins
    assertThat(empty.getFeatures()).isNotEmpty().hasSameSizeAs(p.getFeatures());
    assertThat(empty.getFeatures()).allSatisfy(f -> assertThat(f.getBinFractions()).isEmpty());
  }

  @Test
  void refusesScoresThatAreNotParallelToTheExamples() {
    List<TrainingExample> two = List.of(example(0), example(1));
    assertThatThrownBy(() -> TrainingProfiles.of(two, new float[] {0.1f}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scores");
    assertThatThrownBy(() -> TrainingProfiles.of(two, new float[] {0.1f, 0.2f, 0.3f}))
        .hasMessageContaining("3 scores for 2 examples");
    assertThatThrownBy(() -> TrainingProfiles.of(two, new float[] {0.1f, Float.NaN}))
        .hasMessageContaining("score");
  }

  @Test
  void refusesExamplesOfAnotherShape() {
    TrainingExample shortUser =
        example(
            7,
            values(USER - 1, j -> 0),
            values(ITEM, j -> 0),
            values(CROSS, j -> 0),
            Device.MOBILE,
            "news",
            3);
    assertThatThrownBy(() -> TrainingProfiles.of(List.of(shortUser), null))
        .hasMessageContaining("i7")
        .hasMessageContaining("user_features has " + (USER - 1) + " values");
    TrainingExample v2 = TrainingExample.newBuilder(example(8)).setFeatureSchemaVersion(2).build();
    assertThatThrownBy(() -> TrainingProfiles.of(List.of(v2), null))
        .hasMessageContaining("feature_schema_version 2");
    TrainingExample nan =
        example(
            9,
            values(USER, j -> j == 4 ? Double.NaN : 0),
            values(ITEM, j -> 0),
            values(CROSS, j -> 0),
            Device.MOBILE,
            "news",
            3);
    assertThatThrownBy(() -> TrainingProfiles.of(List.of(nan), null))
        .hasMessageContaining(FeatureSchema.USER.get(4));
  }

  static TrainingExample example(int r) {
    return example(
        r,
        values(USER, j -> 1),
        values(ITEM, j -> 2),
        values(CROSS, j -> 3),
        Device.DESKTOP,
        "news",
        12);
  }

  static TrainingExample example(
      int r,
      List<Double> user,
      List<Double> item,
      List<Double> cross,
      Device device,
      String category,
      int hour) {
    return TrainingExample.newBuilder()
        .setInteractionId("i" + r)
        .setUserId(r)
        .setItemId(1000 + r)
        .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L + r))
        .setDevice(device)
        .setItemCategory(category)
        .setHourOfDay(hour)
        .setDayOfWeek(1)
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .setUserFeatures(user)
        .setItemFeatures(item)
        .setCrossFeatures(cross)
        .setClick(false)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(0f)
        .build();
  }

  static List<Double> values(int n, java.util.function.IntToDoubleFunction f) {
    List<Double> out = new ArrayList<>(n);
    for (int j = 0; j < n; j++) {
      out.add(f.applyAsDouble(j));
    }
    return out;
  }
}
