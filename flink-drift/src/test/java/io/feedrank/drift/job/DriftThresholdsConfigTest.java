package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.FeatureProfile;
import io.feedrank.models.profile.ProfileBuilder;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each of {@link DriftThresholdsConfig#drifted}'s rules deciding alone, with PSI under its
 * threshold (0.2 by default): windows built so that exactly one rule fires, their statistics
 * checked against closed forms or scipy (1.17) values with their inputs, through {@link
 * DriftEvaluator#evaluate}, the job's own path.
 */
class DriftThresholdsConfigTest {
  final DriftThresholdsConfig thresholds = DriftThresholdsConfig.defaults();
  final DriftEvaluator evaluator = new DriftEvaluator("m", thresholds);

  /** x = 1..100: decile edges 10, 20, …, 90, each bin 0.1 (fewer values than k: exact). */
  static FeatureProfile numericReference() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v);
    }
    return b.build().getFeatures().get(0);
  }

  /**
   * The window puts 6 values on each of the edges 10 … 50 and 14 on each of 60 … 100: bins of 0.06,
   * 0.06, 0.06, 0.06, 0.06, 0.14, 0.14, 0.14, 0.14, 0.14, so PSI = 5 (0.06 − 0.1) ln 0.6 + 5 (0.14
   * − 0.1) ln 1.4 = 0.1695 (under 0.2). Its values sit at the top of each bin, so the CDFs part
   * most just below 60: F_ref(59) − F_win(59) = 0.59 − 0.30 = 0.29. scipy: {@code
   * ks_2samp(arange(1, 101), win).statistic} = 0.29, {@code kstwobign.sf(sqrt(100 · 100 / 200) ·
   * 0.29)} = 0.00044525971383286477 (below 0.01).
   */
  @Test
  void theKsRuleAloneDriftsANumericWindow() {
    SketchAccumulator acc = new SketchAccumulator();
    for (int edge = 10; edge <= 100; edge += 10) {
      for (int i = 0; i < (edge <= 50 ? 6 : 14); i++) {
        acc.add(FeatureValue.numeric("x", "NUMERIC", edge, 0));
      }
    }
    Report r =
        evaluator.evaluate(
            DriftEvaluatorTest.summary("x", "NUMERIC", acc), numericReference(), "v1", 100);
    assertThat(r.n).isEqualTo(100);
    double psi = 5 * (0.06 - 0.1) * Math.log(0.6) + 5 * (0.14 - 0.1) * Math.log(1.4);
    assertThat(psi).isCloseTo(0.16945957207744078, within(1e-12));
    assertThat(r.psi).isCloseTo(psi, within(1e-9)).isLessThan(thresholds.psi());
    assertThat(r.ksStatistic).isCloseTo(0.29, within(1e-12)).isGreaterThan(thresholds.ks());
    assertThat(r.ksPValue)
        .isCloseTo(0.00044525971383286477, within(1e-9))
        .isLessThan(thresholds.pValue());
    assertThat(r.chi2PValue).isNull();
    assertThat(r.drifted).isTrue();
  }

  /**
   * Reference 100 rows of device, A 50 / B 30 / C 20; window 1,000 values, A 330 / B 330 / C 340.
   * PSI = (0.33 − 0.5) ln(0.33/0.5) + (0.33 − 0.3) ln(0.33/0.3) + (0.34 − 0.2) ln(0.34/0.2) =
   * 0.1478: under 0.2, above half of it. scipy: {@code chi2_contingency([[50, 30, 20], [330, 330,
   * 340]], correction=False)} = (13.299707602339181, p 0.0012942113038141433, dof 2); with two
   * degrees of freedom the p-value is e^(−χ²/2) in closed form.
   */
  @Test
  void theChiSquareRuleWithPsiAboveHalfItsThresholdAloneDriftsACategoricalWindow() {
    ProfileBuilder b = new ProfileBuilder();
    int device = b.categorical("device");
    for (int i = 0; i < 100; i++) {
      b.addCategory(device, i < 50 ? "A" : i < 80 ? "B" : "C");
    }
    WindowSummary s = new WindowSummary();
    s.feature = "device";
    s.kind = "CATEGORICAL";
    s.counts = new HashMap<>(Map.of("A", 330L, "B", 330L, "C", 340L));
    s.n = 1_000;
    s.sampleSize = 1_000;
    Report r = evaluator.evaluate(s, b.build().getFeatures().get(0), "v1", 100);
    double psi =
        (0.33 - 0.5) * Math.log(0.33 / 0.5)
            + (0.33 - 0.3) * Math.log(0.33 / 0.3)
            + (0.34 - 0.2) * Math.log(0.34 / 0.2);
    assertThat(r.psi)
        .isCloseTo(psi, within(1e-9))
        .isLessThan(thresholds.psi())
        .isGreaterThan(thresholds.psi() / 2);
    assertThat(r.chi2Statistic).isCloseTo(13.299707602339181, within(1e-9));
    assertThat(r.chi2PValue)
        .isCloseTo(0.0012942113038141433, within(1e-12))
        .isCloseTo(Math.exp(-13.299707602339181 / 2), within(1e-12))
        .isLessThan(thresholds.pValue());
    assertThat(r.ksStatistic).isNull();
    assertThat(r.drifted).isTrue();
  }

  /**
   * Reference scores k/100 (k = 1..100), mean 0.505; the window's are (k + shift)/100, one per
   * response. The shift moves the mean by shift/100 and the CDF by as much (D = shift/100, under
   * 0.1); the bins lose shift/100 at the bottom and gain it at the top.
   */
  Report scores(int shift) {
    ProfileBuilder b = new ProfileBuilder();
    for (int k = 1; k <= 100; k++) {
      b.score(k / 100.0);
    }
    SketchAccumulator acc = new SketchAccumulator();
    for (int k = 1; k <= 100; k++) {
      acc.add(FeatureValue.scores("score", new double[] {(k + shift) / 100.0}, 0));
    }
    return evaluator.evaluate(
        DriftEvaluatorTest.summary("score", "PREDICTION", acc), b.build().getScore(), "v1", 100);
  }

  /**
   * A shift of 0.06: the mean moves by 0.06 / 0.505 = 11.9% (above 10%); PSI = (0.04 − 0.1) ln 0.4
   * + (0.16 − 0.1) ln 1.6 = 0.0832; KS D = 0.06 (scipy {@code ks_2samp(arange(1, 101) / 100,
   * arange(7, 107) / 100).statistic}), under 0.1.
   */
  @Test
  void theMeanChangeRuleAloneDriftsTheScores() {
    Report r = scores(6);
    assertThat(r.mean).isCloseTo(0.565, within(1e-12));
    assertThat(r.referenceMean).isCloseTo(0.505, within(1e-12));
    assertThat(r.meanRelativeChange)
        .isCloseTo(0.06 / 0.505, within(1e-12))
        .isGreaterThan(thresholds.meanChange());
    assertThat(r.psi)
        .isCloseTo((0.04 - 0.1) * Math.log(0.4) + (0.16 - 0.1) * Math.log(1.6), within(1e-9))
        .isLessThan(thresholds.psi());
    assertThat(r.ksStatistic).isCloseTo(0.06, within(1e-12)).isLessThan(thresholds.ks());
    assertThat(r.drifted).isTrue();
  }

  /**
   * A shift of 0.05: the mean moves by 0.05 / 0.505 = 9.9%, just under 10%; PSI = 0.05 ln 2 + 0.05
   * ln 1.5 = 0.0549 and D = 0.05: nothing fires.
   */
  @Test
  void aMeanChangeJustUnderItsThresholdIsNotDrift() {
    Report r = scores(5);
    assertThat(r.meanRelativeChange)
        .isCloseTo(0.05 / 0.505, within(1e-12))
        .isLessThan(thresholds.meanChange());
    assertThat(r.psi).isCloseTo(0.05 * Math.log(2) + 0.05 * Math.log(1.5), within(1e-9));
    assertThat(r.ksStatistic).isCloseTo(0.05, within(1e-12));
    assertThat(r.drifted).isFalse();
  }
}
