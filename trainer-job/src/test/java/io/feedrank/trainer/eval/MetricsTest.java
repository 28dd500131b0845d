package io.feedrank.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Reference values from scikit-learn 1.9.1 (numpy 2.4.6), computed on the inputs written here
 * (scores cast to float32 first, as the Java side holds them): {@code roc_auc_score(y, s)}, {@code
 * log_loss(y, p)}, {@code ndcg_score([y_user], [s_user], k=10)} per user then averaged;
 * precision@10 and recall@10 in numpy over {@code argsort(-s, kind='stable')[:10]} per user.
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
  }
}
