package io.feedrank.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.features.FeatureSchema;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import java.util.List;
import org.junit.jupiter.api.Test;

class BaselinesTest {

  /**
   * The baseline ranks as the ranker's popularity fallback does, p / (1 + p) with p = ctr_7d · ln(1
   * + impressions_1d): an item shown once at a smoothed CTR of 0.2 below one shown a thousand times
   * at 0.15, which a ranking by the CTR alone puts the other way round.
   */
  @Test
  void popularityIsTheRankersFallbackFormula() {
    Dataset d = Dataset.of(List.of(example(1, 0.2, 1), example(2, 0.15, 1_000)), 1_000, 1_000);

    float[] scores = Baselines.popularity(d);

    double pOnce = 0.2 * Math.log(2); // 0.138629
    double pOften = 0.15 * Math.log(1_001); // 1.036325
    assertThat(scores[0]).isCloseTo((float) (pOnce / (1 + pOnce)), within(1e-6f)); // 0.121752
    assertThat(scores[1]).isCloseTo((float) (pOften / (1 + pOften)), within(1e-6f)); // 0.508920
    assertThat(scores[1]).isGreaterThan(scores[0]);
  }

  private static Example example(long item, double ctr7d, double impressions1d) {
    double[] features = new double[FeatureSchema.ITEM.size()];
    features[FeatureSchema.ITEM.indexOf("i_ctr_7d")] = ctr7d;
    features[FeatureSchema.ITEM.indexOf("i_impressions_1d")] = impressions1d;
    return new Example(
        1,
        item,
        0,
        12,
        3,
        Device.MOBILE,
        "c",
        new double[FeatureSchema.USER.size()],
        features,
        new double[FeatureSchema.CROSS.size()],
        false);
  }
}
