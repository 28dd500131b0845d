package io.feedrank.drift.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * KS and chi-square against scipy 1.17.1 ({@code scipy.stats.ks_2samp(a, b)} for the statistic,
 * {@code scipy.stats.kstwobign.sf(sqrt(n m / (n + m)) * D)} for the asymptotic p-value used here,
 * {@code scipy.stats.chisquare(f_obs, f_exp)}, {@code scipy.stats.chi2.sf}), with the inputs.
 */
class StatisticsTest {
  /** scipy.stats.chi2.sf(7.84, 3). */
  static final double CHI2_SF_7_84_DF3 = 0.049436789525543784;

  static final double[] A = {0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.55};
  static final double[] B = {0.3, 0.6, 0.65, 0.7, 0.95, 0.45, 0.62, 0.85, 0.6, 0.75};

  @Test
  void twoSampleKsOnASmallCaseWithTies() {
    // by hand: at x = 0.4 F_A = 5/8 (0.1, 0.2, 0.35, 0.4, 0.4) and F_B = 1/10 (0.3): D = 0.525;
    // at x = 0.55 F_A = 6/8, F_B = 2/10: D = 0.55, the maximum (scipy agrees)
    double d = KolmogorovSmirnov.statistic(A, B);
    assertThat(d).isCloseTo(0.55, within(1e-12));
    assertThat(KolmogorovSmirnov.pValue(d, A.length, B.length))
        .isCloseTo(0.13587015597696245, within(1e-9));
  }

  @Test
  void twoSampleKsOnALargerDeterministicCase() {
    double[] a = new double[3000];
    double[] b = new double[2000];
    for (int i = 0; i < a.length; i++) {
      a[i] = ((i * 7919L + 13) % 10007) / 10007.0;
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = ((i * 104729L + 7) % 10009) / 10009.0 * 0.9 + 0.07;
    }
    double d = KolmogorovSmirnov.statistic(a, b);
    assertThat(d).isCloseTo(0.07, within(1e-12));
    assertThat(KolmogorovSmirnov.pValue(d, a.length, b.length))
        .isCloseTo(1.5621649467125444e-05, within(1e-12));
  }

  @Test
  void ksFromSketchesAgreesWithTheExactStatisticWithinTheSketchBound() {
    Random r = new Random(11);
    int n = 200_000;
    double[] a = new double[n];
    double[] b = new double[n];
    double[] c = new double[n];
    KllDoublesSketch sa = KllDoublesSketch.newHeapInstance(200);
    KllDoublesSketch sb = KllDoublesSketch.newHeapInstance(200);
    KllDoublesSketch sc = KllDoublesSketch.newHeapInstance(200);
    for (int i = 0; i < n; i++) {
      a[i] = r.nextGaussian();
      b[i] = r.nextGaussian() * 1.2 + 0.1;
      c[i] = r.nextGaussian();
      sa.update(a[i]);
      sb.update(b[i]);
      sc.update(c[i]);
    }
    double bound = KolmogorovSmirnov.errorBound(sa, sb);
    assertThat(KolmogorovSmirnov.statistic(sa, sb))
        .isCloseTo(KolmogorovSmirnov.statistic(a, b), within(bound));
    assertThat(KolmogorovSmirnov.statistic(sa, sc))
        .isCloseTo(KolmogorovSmirnov.statistic(a, c), within(KolmogorovSmirnov.errorBound(sa, sc)));
    assertThat(bound).isLessThan(0.04);
  }

  @Test
  void chiSquareAgainstScipyAndTheTable() {
    ChiSquare.Result r =
        ChiSquare.test(new long[] {18, 22, 30, 30}, new double[] {.25, .25, .25, .25});
    // (49 + 9 + 25 + 25) / 25 = 4.32
    assertThat(r.statistic()).isCloseTo(4.32, within(1e-12));
    assertThat(r.degreesOfFreedom()).isEqualTo(3);
    assertThat(r.pValue()).isCloseTo(0.22891886433610517, within(1e-9));
    // near the textbook critical value (7.815 at 3 degrees of freedom is p = 0.05): counts
    // 114, 86, 114, 86 against 100 each give (4 * 196) / 100 = 7.84
    ChiSquare.Result near =
        ChiSquare.test(new long[] {114, 86, 114, 86}, new double[] {.25, .25, .25, .25});
    assertThat(near.statistic()).isCloseTo(7.84, within(1e-12));
    assertThat(near.pValue()).isCloseTo(CHI2_SF_7_84_DF3, within(1e-9)).isLessThan(0.05);
  }

  @Test
  void twoSampleChiSquareAgainstScipysContingencyTest() {
    // scipy.stats.chi2_contingency([referenceN * fractions, observed], correction=False), the
    // columns that both rows leave empty left out
    ChiSquare.Result r =
        ChiSquare.twoSample(new long[] {18, 22, 30, 30}, new double[] {.25, .25, .25, .25}, 2000);
    assertThat(r.statistic()).isCloseTo(4.123511930928979, within(1e-9));
    assertThat(r.degreesOfFreedom()).isEqualTo(3);
    assertThat(r.pValue()).isCloseTo(0.24843223308344892, within(1e-9));
    // a category the reference never saw counts against the test
    ChiSquare.Result unseen =
        ChiSquare.twoSample(new long[] {480, 330, 170, 20}, new double[] {.5, .3, .2, 0}, 1000);
    assertThat(unseen.statistic()).isCloseTo(24.269167126309984, within(1e-9));
    assertThat(unseen.pValue()).isCloseTo(2.1947527012643044e-05, within(1e-12));
    // a large window close to a 2,000-row reference: homogeneous (p 0.76), where the goodness of
    // fit to the reference's fractions taken as exact says p < 0.001
    ChiSquare.Result large =
        ChiSquare.twoSample(new long[] {20400, 17350, 12250}, new double[] {.4, .35, .25}, 2000);
    assertThat(large.statistic()).isCloseTo(0.5478267196702562, within(1e-9));
    assertThat(large.pValue()).isCloseTo(0.7603979534110457, within(1e-9));
    assertThat(
            ChiSquare.test(new long[] {20400, 17350, 12250}, new double[] {.4, .35, .25}).pValue())
        .isLessThan(0.001);
    // one category in all: nothing can differ
    assertThat(ChiSquare.twoSample(new long[] {0, 9}, new double[] {0, 1}, 100).pValue())
        .isEqualTo(1.0);
  }

  @Test
  void twoProportionsAgainstScipy() {
    // references: scipy.stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    // .pvalue / 2, the one-sided p of the pooled z-test (its chi-square is z squared)
    assertThat(TwoProportions.lowerPValue(600, 10_000, 400, 10_000))
        .isCloseTo(4.324504840426364e-11, within(1e-18));
    assertThat(TwoProportions.lowerPValue(180, 3_000, 150, 3_000))
        .isCloseTo(0.0446761777688414, within(1e-12));
    assertThat(TwoProportions.lowerPValue(60, 1_000, 50, 1_000))
        .isCloseTo(0.16334162562060123, within(1e-12));
    assertThat(TwoProportions.lowerPValue(1_800, 30_000, 45, 1_000))
        .isCloseTo(0.024286376455938313, within(1e-12));
    // a higher second rate: the lower tail, scipy.stats.norm.cdf(z) with z = 2.868286431058878
    assertThat(TwoProportions.lowerPValue(600, 10_000, 700, 10_000))
        .isCloseTo(0.997936491394939, within(1e-12));
    assertThat(TwoProportions.lowerPValue(0, 100, 0, 100)).isEqualTo(1.0);
    assertThatThrownBy(() -> TwoProportions.lowerPValue(5, 4, 1, 10)).hasMessageContaining("5/4");
  }

  @Test
  void aTinyKsDistanceBetweenLargeSamplesHasAPValueOfOne() {
    // a feature that is 0 in all 1,000 reference rows and in all but one of a window's 10^6
    // values: D = 1e-6, √(nm/(n+m))·D = 3.16e-5; scipy kstwobign.sf(3.1606977062050694e-05) = 1.0
    assertThat(KolmogorovSmirnov.pValue(1e-6, 1_000, 1_000_000)).isEqualTo(1.0);
    assertThat(KolmogorovSmirnov.pValue(0.0, 1_000, 1_000_000)).isEqualTo(1.0);
    // just above the cut-off the series is summed, and agrees: kstwobign.sf(0.1106...) = 1.0
    assertThat(KolmogorovSmirnov.pValue(0.0035, 1_000, 1_000_000)).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void refusesEmptyInputs() {
    assertThatThrownBy(() -> KolmogorovSmirnov.statistic(new double[0], B))
        .hasMessageContaining("non-empty");
    assertThatThrownBy(() -> ChiSquare.test(new long[] {0, 0}, new double[] {.5, .5}))
        .hasMessageContaining("no observations");
    assertThatThrownBy(() -> KolmogorovSmirnov.pValue(0.2, 0, 10)).hasMessageContaining("> 0");
  }

  /**
   * A NaN in either sample is refused, naming it, as an empty sample is: the exact statistic's walk
   * never passed a NaN (it sorts last and is not {@code <=} anything) and looped forever. An
   * infinity is refused too; the job leaves non-finite values out of its windows.
   */
  @Test
  void refusesANonFiniteValueInsteadOfLoopingForever() {
    double[] withNaN = {0.1, Double.NaN, 0.4};
    double[] withInfinity = {0.1, Double.NEGATIVE_INFINITY, 0.4};
    for (Executable call :
        new Executable[] {
          () -> KolmogorovSmirnov.statistic(withNaN, B),
          () -> KolmogorovSmirnov.statistic(A, withNaN),
          () -> KolmogorovSmirnov.statistic(withNaN, withNaN),
          () -> KolmogorovSmirnov.statistic(withInfinity, B)
        }) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () ->
              assertThatThrownBy(call::execute)
                  .isInstanceOf(IllegalArgumentException.class)
                  .hasMessageContaining("finite"));
    }
    assertThatThrownBy(() -> KolmogorovSmirnov.statistic(A, withNaN))
        .hasMessage("KS: sample b must hold finite values only, has NaN at 1");
  }
}
