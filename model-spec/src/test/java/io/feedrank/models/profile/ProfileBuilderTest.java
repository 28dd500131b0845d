package io.feedrank.models.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.ReferenceProfile;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProfileBuilderTest {

  static double sum(java.util.List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).sum();
  }

  @Test
  void decileEdgesOfAUniformSampleAreNearTheTrueDeciles() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    Random r = new Random(3);
    double total = 0;
    for (int i = 0; i < 100_000; i++) {
      double v = r.nextDouble();
      total += v;
      b.add(x, v);
    }
    FeatureProfile p = b.build(100_000).getFeatures().get(0);
    assertThat(p.getKind()).isEqualTo(DriftKind.NUMERIC);
    assertThat(p.getBinEdges()).hasSize(9);
    // KLL with k = 200 has a normalized rank error of about 1.65% (99% confidence, DataSketches'
    // published bound); for U(0,1) a rank error is a value error
    for (int i = 0; i < 9; i++) {
      assertThat(p.getBinEdges().get(i)).isCloseTo((i + 1) / 10.0, within(0.0165));
    }
    assertThat(p.getBinFractions())
        .hasSize(10)
        .allSatisfy(f -> assertThat(f).isCloseTo(0.1, within(0.0165)));
    assertThat(sum(p.getBinFractions())).isCloseTo(1.0, within(1e-12));
    assertThat(p.getMean()).isCloseTo(total / 100_000, within(1e-12));
  }

  @Test
  void smallSamplesAreExact() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int i = 1; i <= 100; i++) { // fewer than k = 200: the sketch holds every value
      b.add(x, i);
    }
    FeatureProfile p = b.build(100).getFeatures().get(0);
    // fewer values than the sketch holds: inclusive deciles of 1..100 are 10, 20, ..., 90
    assertThat(p.getBinEdges())
        .containsExactly(10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0);
    assertThat(p.getBinFractions()).allSatisfy(f -> assertThat(f).isCloseTo(0.1, within(1e-12)));
  }

  @Test
  void aMostlyConstantFeatureGetsFewerBinsNotEmptyOnes() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("clicks");
    for (int i = 0; i < 200; i++) {
      b.add(x, i < 180 ? 0.0 : i - 179); // 90% zeros, then 1..20 (exact: within the sketch's k)
    }
    FeatureProfile p = b.build(200).getFeatures().get(0);
    assertThat(p.getBinEdges()).containsExactly(0.0);
    assertThat(p.getBinFractions()).hasSize(2);
    assertThat(p.getBinFractions().get(0)).isCloseTo(0.9, within(1e-12));
    assertThat(p.getBinFractions().get(1)).isCloseTo(0.1, within(1e-12));
  }

  @Test
  void binsFollowTheInclusiveUpperEdgeConvention() {
    double[] e = {1.0, 2.0, 3.0};
    assertThat(Bins.bin(e, 0.5)).isEqualTo(0);
    assertThat(Bins.bin(e, 1.0)).isEqualTo(0);
    assertThat(Bins.bin(e, Math.nextUp(1.0))).isEqualTo(1);
    assertThat(Bins.bin(e, 2.0)).isEqualTo(1);
    assertThat(Bins.bin(e, 3.0)).isEqualTo(2);
    assertThat(Bins.bin(e, 3.5)).isEqualTo(3);
    assertThat(Bins.bin(new double[0], 42)).isEqualTo(0);
  }

  @Test
  void psiMatchesTheTextbookFormula() {
    // sum (a - e) ln(a / e) for e = 0.25 x 4, a = 0.1, 0.2, 0.3, 0.4:
    // 0.15 ln 2.5 + 0.05 ln 1.25 + 0.05 ln 1.2 + 0.15 ln 1.6 = 0.2282174095733918
    assertThat(Bins.psi(new double[] {.25, .25, .25, .25}, new double[] {.1, .2, .3, .4}, 1e-4))
        .isCloseTo(0.2282174095733918, within(1e-12));
    // an empty expected bin counts as epsilon = 1e-4: (0.2 - 1e-4) ln(0.2 / 1e-4) + ... = 1.5640491
    assertThat(Bins.psi(new double[] {.5, .5, 0}, new double[] {.4, .4, .2}, 1e-4))
        .isCloseTo(1.5640491119253044, within(1e-12));
    assertThat(Bins.psi(new double[] {.3, .7}, new double[] {.3, .7}, 1e-4)).isEqualTo(0.0);
  }

  @Test
  void categoriesAreSortedByShareWithTheRestAsOther() {
    ProfileBuilder b = new ProfileBuilder(200, 2);
    int c = b.categorical("device");
    String[] values = {
      "MOBILE", "MOBILE", "MOBILE", "DESKTOP", "DESKTOP", "TABLET", "UNKNOWN", "TABLET"
    };
    for (String v : values) {
      b.addCategory(c, v);
    }
    FeatureProfile p = b.build(8).getFeatures().get(0);
    assertThat(p.getCategories()).containsExactly("MOBILE", "DESKTOP", ProfileBuilder.OTHER);
    // DESKTOP and TABLET tie at 2: by name, DESKTOP first; TABLET and UNKNOWN fold into other
    assertThat(p.getCategoryFractions()).containsExactly(3 / 8.0, 2 / 8.0, 3 / 8.0);
  }

  @Test
  void theWholeProfileSurvivesAvroAndItsSketchStillAnswers() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    int d = b.categorical("device");
    for (int i = 0; i < 500; i++) {
      b.add(x, i);
      b.addCategory(d, i % 2 == 0 ? "MOBILE" : "DESKTOP");
      b.score(i / 500.0);
    }
    ReferenceProfile p = ReferenceProfile.fromByteBuffer(b.build(500).toByteBuffer());
    assertThat(p.getN()).isEqualTo(500);
    assertThat(p.getScore().getKind()).isEqualTo(DriftKind.PREDICTION);
    assertThat(Bins.sketch(p.getFeatures().get(0)).getN()).isEqualTo(500);
    assertThat(Bins.sketch(p.getFeatures().get(0)).getMaxItem()).isEqualTo(499.0);
    assertThat(Bins.sketch(p.getScore()).getN()).isEqualTo(500);
    assertThat(p.getFeatures().get(1).getSketch()).isNull();
  }

  @Test
  void refusesValuesThatAreNotFinite() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("u_dwell_1h");
    assertThatThrownBy(() -> b.add(x, Double.NaN))
        .hasMessageContaining("u_dwell_1h")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> b.score(Double.POSITIVE_INFINITY)).hasMessageContaining("score");
  }
}
