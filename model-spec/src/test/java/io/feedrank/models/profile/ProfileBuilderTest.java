package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProfileBuilderTest {
  /**
   * KLL's normalized rank error at k = 200 with 99% confidence, from DataSketches' published table
   * ({@code KllSketch.getNormalizedRankError(200, false)} = 0.01329…): one rank (a quantile, a CDF
   * point). A bin fraction is the difference of two CDF points: 0.01652… ({@code …(200, true)}).
   */
  static final double RANK_ERROR_K200 = 0.0133;

  static final double PMF_ERROR_K200 = 0.0166;

  @Test
  void decileEdgesOfAUniformSampleHaveTheirRanksWithinTheKllBound() {
    double[] values = uniform(100_000, 3);
    FeatureProfile p = profile(values, ProfileBuilder.DEFAULT_K);
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    assertThat(p.getKind()).isEqualTo(DriftKind.NUMERIC);
    assertThat(p.getBinEdges()).hasSize(9);
    for (int i = 0; i < 9; i++) {
      double edge = p.getBinEdges().get(i);
      // exact rank of the edge in the sample, counted independently of the sketch
      double rank = (double) countAtMost(sorted, edge) / sorted.length;
      assertThat(rank).isCloseTo((i + 1) / 10.0, within(RANK_ERROR_K200));
      // and for U(0,1) the value is the rank, up to sampling noise (sd ≈ 0.001 at n = 100,000)
      assertThat(edge).isCloseTo((i + 1) / 10.0, within(RANK_ERROR_K200 + 0.005));
    }
  }

  @Test
  void binFractionsOfAUniformSampleMatchExactCountsWithinTheKllBound() {
    double[] values = uniform(100_000, 5);
    FeatureProfile p = profile(values, ProfileBuilder.DEFAULT_K);
    List<Double> edges = p.getBinEdges();
    assertThat(p.getBinFractions()).hasSize(10);
    for (int b = 0; b < 10; b++) {
      double lo = b == 0 ? Double.NEGATIVE_INFINITY : edges.get(b - 1);
      double hi = b == 9 ? Double.POSITIVE_INFINITY : edges.get(b);
      long inBin = Arrays.stream(values).filter(v -> v > lo && v <= hi).count();
      double exact = (double) inBin / values.length;
      assertThat(p.getBinFractions().get(b)).isCloseTo(exact, within(PMF_ERROR_K200));
      assertThat(p.getBinFractions().get(b)).isCloseTo(0.1, within(PMF_ERROR_K200));
    }
    assertThat(sum(p.getBinFractions())).isCloseTo(1.0, within(1e-12));
    assertThat(p.getMean()).isCloseTo(Arrays.stream(values).sum() / values.length, within(1e-12));
  }

  @Test
  void decilesOfOneToAThousandAreExactWhenTheSketchHoldsEveryValue() {
    double[] values = new double[1000];
    Arrays.setAll(values, i -> i + 1);
    // k = 1000 keeps all 1000 values: inclusive deciles of 1..1000 are 100, 200, ..., 900
    FeatureProfile exact = profile(values, 1000);
    assertThat(exact.getBinEdges())
        .containsExactly(100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0);
    assertThat(exact.getBinFractions())
        .allSatisfy(f -> assertThat(f).isCloseTo(0.1, within(1e-12)));
    assertThat(exact.getMean()).isEqualTo(500.5);
    // k = 200 compacts: each edge within one rank error (0.0133 · 1000 values, +1 for the step)
    FeatureProfile sketched = profile(values, ProfileBuilder.DEFAULT_K);
    for (int i = 0; i < 9; i++) {
      assertThat(sketched.getBinEdges().get(i)).isCloseTo(100.0 * (i + 1), within(14.3));
    }
    assertThat(sum(sketched.getBinFractions())).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void aMostlyZeroFeatureGetsOneEdgeAndTheZeroBinCarriesItsShare() {
    // exactly 92% zeros, the rest in (1, 2), shuffled; the sketch compacts (n >> k)
    Random r = new Random(11);
    double[] values = new double[100_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = i % 25 < 23 ? 0.0 : 1 + r.nextDouble();
    }
    shuffle(values, r);
    FeatureProfile p = profile(values, ProfileBuilder.DEFAULT_K);
    assertThat(p.getBinEdges()).containsExactly(0.0);
    assertThat(p.getBinFractions()).hasSize(2);
    assertThat(p.getBinFractions().get(0)).isCloseTo(0.92, within(RANK_ERROR_K200));
    assertThat(sum(p.getBinFractions())).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void tiesCollapseExactlyWhileTheSketchHoldsEveryValue() {
    double[] clicks = new double[200];
    for (int i = 180; i < 200; i++) {
      clicks[i] = i - 179; // 90% zeros, then 1..20
    }
    FeatureProfile p = profile(clicks, ProfileBuilder.DEFAULT_K);
    assertThat(p.getBinEdges()).containsExactly(0.0);
    assertThat(p.getBinFractions()).hasSize(2);
    assertThat(p.getBinFractions().get(0)).isCloseTo(0.9, within(1e-12));
    assertThat(p.getBinFractions().get(1)).isCloseTo(0.1, within(1e-12));

    double[] flag = new double[100];
    Arrays.fill(flag, 70, 100, 1.0); // 30% ones: deciles 0 x 7, 1 x 2
    FeatureProfile f = profile(flag, ProfileBuilder.DEFAULT_K);
    assertThat(f.getBinEdges()).containsExactly(0.0, 1.0);
    // the last edge is the maximum, so (1, +inf) is empty: it catches live values above 1
    assertThat(f.getBinFractions().get(0)).isCloseTo(0.7, within(1e-12));
    assertThat(f.getBinFractions().get(1)).isCloseTo(0.3, within(1e-12));
    assertThat(f.getBinFractions().get(2)).isEqualTo(0.0);

    double[] constant = new double[50];
    Arrays.fill(constant, 4.5);
    FeatureProfile c = profile(constant, ProfileBuilder.DEFAULT_K);
    assertThat(c.getBinEdges()).containsExactly(4.5);
    assertThat(c.getBinFractions()).containsExactly(1.0, 0.0);
  }

  @Test
  void binFractionsAgreeWithBinningTheValuesWhileTheSketchIsExact() {
    Random r = new Random(7);
    double[] values = new double[150]; // <= k: the sketch holds them all
    Arrays.setAll(values, i -> r.nextInt(10));
    FeatureProfile p = profile(values, ProfileBuilder.DEFAULT_K);
    double[] edges = Bins.edges(p);
    long[] counts = new long[edges.length + 1];
    for (double v : values) {
      counts[Bins.bin(edges, v)]++;
    }
    for (int b = 0; b < counts.length; b++) {
      assertThat(p.getBinFractions().get(b)).isCloseTo(counts[b] / 150.0, within(1e-12));
    }
  }

  @Test
  void theMeanKeepsLowOrderBitsANaiveSumLoses() {
    // 1e16 + 1 == 1e16 in doubles: a plain sum of these 1002 values is 0, the true sum is 1000
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    b.add(x, 1e16);
    for (int i = 0; i < 1000; i++) {
      b.add(x, 1.0);
    }
    b.add(x, -1e16);
    assertThat(b.build().getFeatures().get(0).getMean()).isEqualTo(1000.0 / 1002);
  }

  @Test
  void aFeatureWithoutValuesHasNoBinsAndAnEmptySketch() {
    ProfileBuilder b = new ProfileBuilder();
    b.numeric("x");
    FeatureProfile p = b.build(0).getFeatures().get(0);
    assertThat(p.getBinEdges()).isEmpty();
    assertThat(p.getBinFractions()).isEmpty();
    assertThat(p.getMean()).isEqualTo(0.0);
    assertThat(Bins.sketch(p).isEmpty()).isTrue();
  }

  @Test
  void scoresAreAPredictionProfileAndBuildCountsTheRows() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    assertThat(b.build().getScore()).isNull();
    for (int i = 1; i <= 10; i++) {
      b.add(x, i);
      b.score(i / 10.0);
    }
    var profile = b.build();
    assertThat(profile.getN()).isEqualTo(10);
    assertThat(profile.getScore().getName()).isEqualTo(ProfileBuilder.SCORE);
    assertThat(profile.getScore().getKind()).isEqualTo(DriftKind.PREDICTION);
    assertThat(profile.getScore().getMean()).isCloseTo(0.55, within(1e-12));
    assertThat(profile.getScore().getBinEdges()).hasSize(9);
  }

  @Test
  void refusesValuesThatAreNotFiniteNamingTheFeature() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("u_dwell_1h");
    assertThatThrownBy(() -> b.add(x, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("u_dwell_1h")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> b.add(x, Double.NEGATIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("u_dwell_1h");
    assertThatThrownBy(() -> b.score(Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("score");
  }

  @Test
  void refusesMisusedFeatures() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    int d = b.categorical("device");
    assertThatThrownBy(() -> b.numeric("x")).hasMessageContaining("x is already registered");
    assertThatThrownBy(() -> b.addCategory(x, "a")).hasMessageContaining("x is numeric");
    assertThatThrownBy(() -> b.add(d, 1.0)).hasMessageContaining("device is categorical");
    assertThatThrownBy(() -> b.add(2, 1.0)).hasMessageContaining("index 2");
    assertThatThrownBy(() -> new ProfileBuilder(4, 50)).hasMessageContaining("k must be");
    assertThatThrownBy(() -> new ProfileBuilder(200, 0)).hasMessageContaining("maxCategories");
  }

  static FeatureProfile profile(double[] values, int k) {
    ProfileBuilder b = new ProfileBuilder(k, ProfileBuilder.DEFAULT_MAX_CATEGORIES);
    int x = b.numeric("x");
    for (double v : values) {
      b.add(x, v);
    }
    return b.build(values.length).getFeatures().get(0);
  }

  static double[] uniform(int n, long seed) {
    Random r = new Random(seed);
    double[] values = new double[n];
    Arrays.setAll(values, i -> r.nextDouble());
    return values;
  }

  static void shuffle(double[] values, Random r) {
    for (int i = values.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      double t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }

  static long countAtMost(double[] sorted, double x) {
    int i = Arrays.binarySearch(sorted, x);
    if (i < 0) {
      return -i - 1;
    }
    while (i + 1 < sorted.length && sorted[i + 1] == x) {
      i++;
    }
    return i + 1;
  }

  static double sum(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).sum();
  }
}
