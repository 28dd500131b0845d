package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import java.util.List;
import org.junit.jupiter.api.Test;

class BinsTest {

  @Test
  void binsIncludeTheirUpperEdge() {
    double[] e = {1.0, 2.0, 3.0};
    assertThat(Bins.bin(e, Math.nextDown(1.0))).isEqualTo(0);
    assertThat(Bins.bin(e, 1.0)).isEqualTo(0);
    assertThat(Bins.bin(e, Math.nextUp(1.0))).isEqualTo(1);
    assertThat(Bins.bin(e, Math.nextDown(2.0))).isEqualTo(1);
    assertThat(Bins.bin(e, 2.0)).isEqualTo(1);
    assertThat(Bins.bin(e, Math.nextUp(2.0))).isEqualTo(2);
    assertThat(Bins.bin(e, 3.0)).isEqualTo(2);
    assertThat(Bins.bin(e, Math.nextUp(3.0))).isEqualTo(3);
    assertThat(Bins.bin(e, Double.NEGATIVE_INFINITY)).isEqualTo(0);
    assertThat(Bins.bin(e, Double.POSITIVE_INFINITY)).isEqualTo(3);
    assertThat(Bins.bin(new double[] {0.0}, -0.5)).isEqualTo(0);
    assertThat(Bins.bin(new double[] {0.0}, 0.0)).isEqualTo(0);
    assertThat(Bins.bin(new double[] {0.0}, Double.MIN_VALUE)).isEqualTo(1);
    assertThat(Bins.bin(new double[0], 42)).isEqualTo(0);
    assertThatThrownBy(() -> Bins.bin(e, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NaN");
  }

  @Test
  void binAgreesWithALinearScanOverManyEdges() {
    double[] e = new double[9];
    for (int i = 0; i < 9; i++) {
      e[i] = (i + 1) * 0.1;
    }
    for (int v = -5; v <= 1_005; v++) {
      double x = v / 1_000.0;
      int expected = 0;
      while (expected < e.length && x > e[expected]) {
        expected++;
      }
      assertThat(Bins.bin(e, x)).as("bin of %s", x).isEqualTo(expected);
    }
  }

  @Test
  void psiMatchesTheTextbookFormula() {
    // Σ (a − e)·ln(a/e), e = 0.25 x 4, a = 0.1, 0.2, 0.3, 0.4:
    // (−0.15)·ln 0.4 + (−0.05)·ln 0.8 + 0.05·ln 1.2 + 0.15·ln 1.6
    // = 0.137443 + 0.011157 + 0.009116 + 0.070501 = 0.2282174095733918
    assertThat(Bins.psi(new double[] {.25, .25, .25, .25}, new double[] {.1, .2, .3, .4}, 1e-4))
        .isCloseTo(0.2282174095733918, within(1e-12));
    // identical distributions: 0
    assertThat(Bins.psi(new double[] {.3, .7}, new double[] {.3, .7}, 1e-4)).isEqualTo(0.0);
  }

  @Test
  void emptyBinsCountAsEpsilon() {
    // expected bin 3 is empty → 1e-4: 2·(−0.1)·ln 0.8 + (0.2 − 1e-4)·ln(0.2 / 1e-4)
    // = 0.0446287 + 0.1999 · 7.6009025 = 1.5640491119253044
    assertThat(Bins.psi(new double[] {.5, .5, 0}, new double[] {.4, .4, .2}, 1e-4))
        .isCloseTo(1.5640491119253044, within(1e-12));
    // a bin empty on both sides adds nothing; a sketch residue counts as epsilon too
    assertThat(Bins.psi(new double[] {.5, .5, 0}, new double[] {.5, .5, 0}, 1e-4)).isEqualTo(0.0);
    assertThat(Bins.psi(new double[] {.5, .5, 1e-17}, new double[] {.5, .5, 0}, 1e-4))
        .isEqualTo(0.0);
  }

  @Test
  void psiRefusesMismatchedBinsAndABadEpsilon() {
    assertThatThrownBy(() -> Bins.psi(new double[] {1}, new double[] {.5, .5}, 1e-4))
        .hasMessageContaining("1 expected bins but 2 actual");
    assertThatThrownBy(() -> Bins.psi(new double[] {1}, new double[] {1}, 0))
        .hasMessageContaining("epsilon");
  }

  @Test
  void liveCategoriesFallInTheirBinTheBucketOrTheUnseenBin() {
    List<String> withBucket = List.of("MOBILE", "DESKTOP", ProfileBuilder.OTHER);
    assertThat(Bins.categoryBin(withBucket, "DESKTOP")).isEqualTo(1);
    assertThat(Bins.categoryBin(withBucket, "WATCH")).isEqualTo(2);
    List<String> without = List.of("news", "");
    assertThat(Bins.categoryBin(without, null)).isEqualTo(1);
    assertThat(Bins.categoryBin(without, "sports")).isEqualTo(2);

    FeatureProfile p =
        FeatureProfile.newBuilder()
            .setName("item_category")
            .setKind(DriftKind.CATEGORICAL)
            .setCategories(without)
            .setCategoryFractions(List.of(0.75, 0.25))
            .setSketch(null)
            .build();
    assertThat(Bins.categoryFractions(p)).containsExactly(0.75, 0.25, 0.0);
  }

  @Test
  void countsBecomeFractions() {
    assertThat(Bins.fractions(new long[] {1, 0, 3})).containsExactly(0.25, 0.0, 0.75);
    assertThatThrownBy(() -> Bins.fractions(new long[] {0, 0})).hasMessageContaining("no values");
  }

  @Test
  void aProfileWithoutSketchIsRefusedByName() {
    FeatureProfile p =
        FeatureProfile.newBuilder()
            .setName("device")
            .setKind(DriftKind.CATEGORICAL)
            .setSketch(null)
            .build();
    assertThatThrownBy(() -> Bins.sketch(p)).hasMessageContaining("device has no sketch");
  }
}
