package io.feedrank.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Reference values from scikit-learn 1.9.1 (numpy 2.4.6, CPython 3.11), computed on the inputs
 * written here (scores cast to float32 first, as the Java side holds them, then to float64): {@code
 * sklearn.metrics.roc_auc_score(y, s)}, {@code sklearn.metrics.log_loss(y, p)}, {@code
 * sklearn.metrics.ndcg_score([y_user], [s_user], k=10)} per user with a positive, then averaged;
 * precision@k and recall@k in numpy over {@code argsort(-s_user, kind='stable')[:k]} per user.
 * Tolerances are 1e-12 where both sides do the same float64 operations in a different order, wider
 * only where stated.
 */
class MetricsTest {

  static float[] f(double... v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) v[i];
    }
    return out;
  }

  @Test
  void aucCountsTiesAsHalfLikeSklearn() {
    float[] y = f(0, 0, 1, 1, 0, 1, 0, 1);
    float[] s = f(0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9);
    assertThat(Metrics.auc(s, y)).isCloseTo(0.8125, within(1e-12)); // roc_auc_score
  }

  @Test
  void aucOfPerfectAndReversedRankings() {
    float[] y = f(0, 0, 1, 1);
    assertThat(Metrics.auc(f(0.1, 0.2, 0.3, 0.4), y)).isEqualTo(1.0);
    assertThat(Metrics.auc(f(0.4, 0.3, 0.2, 0.1), y)).isEqualTo(0.0);
    assertThat(Metrics.auc(f(0.5, 0.5, 0.5, 0.5), y)).isEqualTo(0.5);
  }

  @Test
  void aucRefusesASingleClass() {
    assertThatThrownBy(() -> Metrics.auc(f(0.1, 0.2), f(1, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both classes");
  }

  @Test
  void logLossMatchesSklearn() {
    assertThat(Metrics.logLoss(f(0.9, 0.1, 0.8, 0.35, 0.6), f(1, 0, 1, 0, 1)))
        .isCloseTo(0.275094617365482, within(1e-7)); // log_loss; float32 inputs
  }

  @Test
  void logLossClipsCertainProbabilitiesLikeSklearnOnClippedInput() {
    // sklearn 1.9 clips at float64 machine epsilon itself, so the reference is taken on input
    // clipped the documented way: log_loss(y, np.clip(p, 1e-7, 1 - 1e-7))
    assertThat(Metrics.logLoss(f(1.0, 0.0, 0.0, 0.7, 1.0), f(0, 0, 1, 1, 1)))
        .isCloseTo(6.518573292682328, within(1e-12));
  }

  @Test
  void logLossClipsCertainMistakes() {
    // a certain miss costs -ln(1e-7), a certain hit -ln(1 - 1e-7): finite, by the documented clip
    double expected = (-Math.log(1e-7) - Math.log(1 - 1e-7)) / 2;
    // (1 - 1e-7 is not exact in binary: the clipped miss is off by ~6e-9)
    assertThat(Metrics.logLoss(f(1.0, 1.0), f(0, 1))).isCloseTo(expected, within(1e-7));
  }

  @Test
  void rankingMetricsPerUserSkipUsersWithoutAPositive() {
    // user 1: 12 rows (k cuts at 10); user 2: 3 rows (fewer than k); user 3: no positive
    float[] y = f(0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0);
    float[] s =
        f(0.9, 0.85, 0.8, 0.7, 0.65, 0.6, 0.5, 0.45, 0.4, 0.3, 0.2, 0.1, 0.2, 0.5, 0.1, 0.7, 0.3);
    long[] u = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3};
    Metrics.RankingMetrics r = Metrics.ranking(s, y, u, 10);
    assertThat(r.users()).isEqualTo(2);
    // ndcg_score per user: 0.5101671483174705 and 0.6934264036172708
    assertThat(r.ndcgAtK()).isCloseTo((0.5101671483174705 + 0.6934264036172708) / 2, within(1e-12));
    // user 1: 3 of 4 positives in the top 10; user 2: 2 of 2 in its 3 rows
    assertThat(r.precisionAtK()).isCloseTo((3 / 10.0 + 2 / 3.0) / 2, within(1e-12));
    assertThat(r.recallAtK()).isCloseTo((3 / 4.0 + 1.0) / 2, within(1e-12));
  }

  /**
   * Users interleaved; user 10 has 7 rows (fewer than k) with a three-way tie across labels, user
   * 20 has 12 rows with a tie across the cut at k = 10, user 30 has no positive. ndcg_score
   * averages the gains of tied rows, our contract keeps row order, so the reference is ndcg_score
   * on {@code s_user - 1e-6 * arange(n_user)} (all score gaps are 0.1): the same order, no ties
   * left. (On the raw scores sklearn gives 0.6234091310719143 and 0.7436961820446673 at k = 10.)
   */
  @Test
  void rankingBreaksTiesByRowOrderWithinEachUser() {
    long[] u = {20, 10, 20, 30, 10, 20, 20, 10, 20, 10, 20, 30, 20, 10, 20, 20, 10, 20, 10, 20, 20};
    float[] s =
        f(
            0.8, 0.5, 0.7, 0.9, 0.5, 0.7, 0.6, 0.5, 0.6, 0.3, 0.6, 0.2, 0.5, 0.3, 0.4, 0.4, 0.9,
            0.3, 0.1, 0.3, 0.3);
    float[] y = f(1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1);

    Metrics.RankingMetrics at10 = Metrics.ranking(s, y, u, 10);
    assertThat(at10.users()).isEqualTo(2);
    assertThat(at10.ndcgAtK())
        .isCloseTo((0.6153925060653325 + 0.6527851779961892) / 2, within(1e-12));
    assertThat(at10.precisionAtK()).isCloseTo(0.4857142857142857, within(1e-12)); // (4/7 + 4/10)/2
    assertThat(at10.recallAtK()).isCloseTo(0.8333333333333333, within(1e-12)); // (4/4 + 4/6)/2

    Metrics.RankingMetrics at3 = Metrics.ranking(s, y, u, 3);
    assertThat(at3.ndcgAtK())
        .isCloseTo((0.23463936301137828 + 0.7039180890341348) / 2, within(1e-12));
    assertThat(at3.precisionAtK()).isCloseTo(0.5, within(1e-12));
    assertThat(at3.recallAtK()).isCloseTo(0.29166666666666663, within(1e-12));
  }

  @Test
  void tiedScoresWithinAUserKeepRowOrder() {
    // both rows score 0.5; the positive comes second, so at k = 1 it is missed
    Metrics.RankingMetrics r = Metrics.ranking(f(0.5, 0.5), f(0, 1), new long[] {7, 7}, 1);
    assertThat(r.precisionAtK()).isEqualTo(0.0);
    assertThat(r.ndcgAtK()).isEqualTo(0.0);
  }

  /** 2,000 rows from integer formulas that the Python side evaluates identically. */
  @Test
  void largerInputMatchesSklearn() {
    int n = 2000;
    float[] s = new float[n];
    float[] y = new float[n];
    long[] u = new long[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      long k = (i * 7919L + 13) % 10007;
      s[i] = (float) ((k + 1) / 10009.0);
      y[i] = ((i * 2654435761L) % 1000) / 1000.0 < s[i] * 0.6 ? 1 : 0;
      u[i] = i % 37;
      sum += s[i];
    }
    // the same rows as in Python: sum of float32 scores 1000.367569299473, 607 positives
    assertThat(sum).isCloseTo(1000.367569299473, within(1e-9));
    double positives = 0;
    for (float v : y) {
      positives += v;
    }
    assertThat(positives).isEqualTo(607);
    assertThat(Metrics.auc(s, y)).isCloseTo(0.731253348408316, within(1e-12));
    assertThat(Metrics.logLoss(s, y)).isCloseTo(0.708701442459406, within(1e-9));
    Metrics.RankingMetrics r = Metrics.ranking(s, y, u, 10);
    assertThat(r.users()).isEqualTo(37);
    assertThat(r.ndcgAtK()).isCloseTo(0.5567085754180081, within(1e-12));
    assertThat(r.precisionAtK()).isCloseTo(0.5459459459459459, within(1e-12));
    assertThat(r.recallAtK()).isCloseTo(0.3272899098363494, within(1e-12));
    // ECE in numpy: bins floor(s * 10) (no score within 1e-5 of an edge), Σ |Σ_b s - Σ_b y| / n
    Metrics.Calibration c = Metrics.calibration(s, y);
    assertThat(c.meanPredicted()).isCloseTo(0.5001837846497365, within(1e-12));
    assertThat(c.observedRate()).isCloseTo(0.3035, within(1e-12));
    assertThat(c.ece()).isCloseTo(0.19677260471039335, within(1e-12));
  }

  /** 2,000 rows on 21 distinct scores: most rows tie, across both classes. */
  @Test
  void aucWithManyTiesMatchesSklearn() {
    int n = 2000;
    float[] s = new float[n];
    float[] y = new float[n];
    double sum = 0;
    double positives = 0;
    for (int i = 0; i < n; i++) {
      long k = (i * 7919L + 13) % 10007;
      s[i] = (float) ((k % 21) / 20.0);
      y[i] = ((i * 2654435761L) % 1000) / 1000.0 < 0.2 + s[i] * 0.5 ? 1 : 0;
      sum += s[i];
      positives += y[i];
    }
    assertThat(sum).isCloseTo(1000.6500010676682, within(1e-9)); // same rows as in Python
    assertThat(positives).isEqualTo(903);
    assertThat(Metrics.auc(s, y)).isCloseTo(0.6693418373476037, within(1e-12));
  }

  @Test
  void evaluationCarriesTheRegistryKeys() {
    float[] y = f(0, 0, 1, 1, 0, 1, 0, 1);
    float[] s = f(0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9);
    long[] u = {1, 1, 1, 1, 2, 2, 2, 2};
    var m = Metrics.evaluate(s, y, u).toMap();
    assertThat(m)
        .containsKeys(
            "auc",
            "logloss",
            "p_at_10",
            "recall_at_10",
            "ndcg_at_10",
            "mean_predicted",
            "observed_rate",
            "ece",
            "n");
    assertThat(m.get("auc")).isCloseTo(0.8125, within(1e-12));
    // sklearn.metrics.log_loss(y, s) for these eight rows: 0.45559653 (the mean of
    // -(y ln s + (1 - y) ln(1 - s))); the mean prediction 3.55 / 8
    assertThat(m.get("logloss")).isCloseTo(0.4555965, within(1e-6));
    assertThat(m.get("mean_predicted")).isCloseTo(0.44375, within(1e-6));
    assertThat(m.get("p_at_10")).isCloseTo(0.5, within(1e-12)); // 2 of 4 rows per user
    assertThat(m.get("recall_at_10")).isEqualTo(1.0);
    assertThat(m.get("observed_rate")).isEqualTo(0.5);
    assertThat(m.get("n")).isEqualTo(8.0);
    assertThat(m.get("positives")).isEqualTo(4.0);
  }

  @Test
  void expectedCalibrationErrorOverTenBins() {
    // bin [0.1, 0.2): predictions 0.1, 0.1, observed 1 of 2 -> |0.1 - 0.5| weighted 2/4
    // bin [0.9, 1.0]: predictions 0.9, 0.9, observed 2 of 2 -> |0.9 - 1.0| weighted 2/4
    Metrics.Calibration c = Metrics.calibration(f(0.1, 0.1, 0.9, 0.9), f(0, 1, 1, 1));
    assertThat(c.meanPredicted()).isCloseTo(0.5, within(1e-7));
    assertThat(c.observedRate()).isEqualTo(0.75);
    assertThat(c.ece()).isCloseTo(0.5 * 0.4 + 0.5 * 0.1, within(1e-7));
  }

  @Test
  void inputsAreChecked() {
    assertThatThrownBy(() -> Metrics.auc(f(0.1), f(0, 1)))
        .hasMessageContaining("labels has 2 rows");
    assertThatThrownBy(() -> Metrics.logLoss(f(), f())).hasMessageContaining("empty");
    assertThatThrownBy(() -> Metrics.logLoss(f(0.5), f(0.5))).hasMessageContaining("0 or 1");
    assertThatThrownBy(() -> Metrics.ranking(f(0.5), f(1), new long[] {1}, 0))
        .hasMessageContaining("k must be >= 1");
    assertThatThrownBy(() -> Metrics.ranking(f(0.5, 0.4), f(1, 0), new long[] {1}, 10))
        .hasMessageContaining("userIds has 1 rows");
    assertThatThrownBy(() -> Metrics.auc(f(0.5, Double.NaN), f(1, 0)))
        .hasMessageContaining("scores")
        .hasMessageContaining("NaN at 1");
    assertThatThrownBy(() -> Metrics.auc(f(0.1, 0.2), f(0, 0)))
        .hasMessageContaining("0 positives in 2 rows");
  }
}
