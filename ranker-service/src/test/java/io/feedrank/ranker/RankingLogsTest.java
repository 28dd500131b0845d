package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.ranker.features.Parsed;
import io.feedrank.ranker.scoring.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RankingLogsTest {

  /**
   * Sampling by geometric gaps picks each row independently with the rate: the count is binomial
   * and the picks are spread evenly over the positions (chi-square over ten bands).
   */
  @Test
  void eachRowIsSampledWithTheRate() {
    Random r = new Random(11);
    int rows = 1_000;
    int requests = 200;
    double rate = 0.1;
    long total = 0;
    long[] bands = new long[10];
    for (int q = 0; q < requests; q++) {
      int[] picked = RankingLogs.pick(rows, rate, r);
      for (int k = 0; k < picked.length; k++) {
        assertThat(picked[k]).isBetween(0, rows - 1);
        if (k > 0) {
          assertThat(picked[k]).isGreaterThan(picked[k - 1]);
        }
        bands[picked[k] / 100]++;
      }
      total += picked.length;
    }
    // binomial(200,000, 0.1): mean 20,000, standard deviation sqrt(200,000 * 0.1 * 0.9) = 134.2
    assertThat((double) total).isBetween(20_000 - 6 * 134.2, 20_000 + 6 * 134.2);
    double chi2 = 0;
    double expected = total / 10.0;
    for (long b : bands) {
      chi2 += (b - expected) * (b - expected) / expected;
    }
    assertThat(chi2).as("chi-square, 9 degrees of freedom, 0.999 quantile 27.88").isLessThan(27.88);

    assertThat(RankingLogs.pick(rows, 0, r)).isEmpty();
    assertThat(RankingLogs.pick(5, 1.0, r)).containsExactly(0, 1, 2, 3, 4);
    assertThat(RankingLogs.pick(0, 0.5, r)).isEmpty();
    // a rate close to 1 grows its array past the first 16 picks
    assertThat(RankingLogs.pick(1_000, 0.999, r).length).isGreaterThan(980);
  }

  /** The sampled rows a scorer covered get their features in one lookup, and only those. */
  @Test
  void coveredSampledRowsAreResolvedInOneCall() {
    long[] ids = {10, 11, 12, 13, 14, 15};
    Batch b = Batch.begin(ids, 0);
    b.cover(1);
    b.cover(3);
    b.cover(4);
    Parsed.Item known = Parsed.Item.UNKNOWN;
    Parsed.Item[] items = {known, null, known, null, null, known};
    List<long[]> calls = new ArrayList<>();
    b.features(
        new ServingFeatures(1, Map.of(), 0L, Device.UNKNOWN),
        items,
        null,
        want -> {
          calls.add(want.clone());
          Parsed.Item[] got = new Parsed.Item[want.length];
          Arrays.fill(got, Parsed.Item.UNKNOWN);
          return got;
        });
    b.resolve(new int[] {0, 1, 4, 5}, 4);
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0)).containsExactly(11, 14);
    assertThat(b.item(1)).isSameAs(Parsed.Item.UNKNOWN);
    // the rest, once more in one call; nothing twice
    b.resolveAll();
    assertThat(calls).hasSize(2);
    assertThat(calls.get(1)).containsExactly(13);
    b.resolveAll();
    assertThat(calls).hasSize(2);
  }
}
