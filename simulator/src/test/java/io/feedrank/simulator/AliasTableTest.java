package io.feedrank.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AliasTableTest {

  @Test
  void drawsEachIndexInProportionToItsWeight() {
    double[] w = {1, 0, 3, 6, 0.5, 9.5};
    double total = 20;
    AliasTable t = new AliasTable(w);
    SplittableRandom r = new SplittableRandom(1);
    int n = 1_000_000;
    long[] counts = new long[w.length];
    for (int i = 0; i < n; i++) {
      counts[t.sample(r)]++;
    }
    // Pearson chi-square over the non-zero cells; 4 d.f., 99.9% quantile 18.47 (chi-square table)
    double chi2 = 0;
    for (int i = 0; i < w.length; i++) {
      double expected = n * w[i] / total;
      if (w[i] == 0) {
        assertThat(counts[i]).as("zero-weight index %d", i).isZero();
      } else {
        chi2 += Math.pow(counts[i] - expected, 2) / expected;
      }
    }
    assertThat(chi2).isLessThan(18.47);
  }

  @Test
  void refusesEmptyNegativeOrAllZeroWeights() {
    assertThatThrownBy(() -> new AliasTable(new double[0])).hasMessageContaining("empty");
    assertThatThrownBy(() -> new AliasTable(new double[] {1, -1})).hasMessageContaining(">= 0");
    assertThatThrownBy(() -> new AliasTable(new double[] {0, 0})).hasMessageContaining("all be 0");
  }
}
