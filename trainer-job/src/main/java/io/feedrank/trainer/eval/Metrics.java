package io.feedrank.trainer.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Offline metrics of click predictions (DESIGN §4). Inputs are parallel primitive arrays:
 * probabilities in [0, 1], labels 0 or 1 and, for ranking metrics, the user of each row. Every
 * method refuses empty or unequal arrays, labels other than 0 or 1 and NaN scores; sorting is a
 * stable index merge sort ({@link Sorting}), so millions of rows cost O(n log n) and no boxing.
 */
public final class Metrics {
  /** Probabilities are clipped to [EPS, 1 − EPS] in the log loss, so a confident miss is finite. */
  public static final double EPS = 1e-7;

  private Metrics() {}

  /**
   * ROC AUC as the Mann–Whitney statistic: the probability that a random positive outscores a
   * random negative, ties counted half (average ranks), as {@code sklearn roc_auc_score}. Refuses a
   * single-class input, where AUC is undefined.
   */
  public static double auc(float[] scores, float[] labels) {
    check(scores, labels);
    int n = scores.length;
    int[] order = Sorting.byScore(scores, null, false);
    double positives = 0;
    double rankSum = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double avgRank = (i + j) / 2.0 + 1; // 1-based ranks i+1..j+1
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] > 0.5f) {
          positives++;
          rankSum += avgRank;
        }
      }
      i = j + 1;
    }
    double negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      throw new IllegalArgumentException(
          "AUC needs both classes; labels has "
              + (long) positives
              + " positives in "
              + n
              + " rows");
    }
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
  }

  /** Mean binary cross-entropy (natural log), probabilities clipped by {@link #EPS}. */
  public static double logLoss(float[] scores, float[] labels) {
    check(scores, labels);
    double sum = 0;
    for (int i = 0; i < scores.length; i++) {
      double p = Math.min(1 - EPS, Math.max(EPS, scores[i]));
      sum -= labels[i] > 0.5f ? Math.log(p) : Math.log(1 - p);
    }
    return sum / scores.length;
  }

  /**
   * Precision, recall and NDCG at k per user, averaged over the {@code users} that have a positive;
   * all zero with {@code users == 0} when no user has one.
   */
  public record RankingMetrics(double precisionAtK, double recallAtK, double ndcgAtK, int users) {}

  /**
   * Per user, that user's rows ranked by score (descending; ties keep row order): precision@k =
   * hits in the top k / min(k, rows of the user); recall@k = hits / positives of the user; NDCG@k
   * with binary gains {@code 1/log2(rank + 1)} over the ideal DCG@k. Users without a positive have
   * no defined recall or NDCG and are left out of all three averages; {@code users} counts the
   * users averaged.
   */
  public static RankingMetrics ranking(float[] scores, float[] labels, long[] userIds, int k) {
    check(scores, labels);
    if (userIds.length != scores.length) {
      throw new IllegalArgumentException(
          "userIds has " + userIds.length + " rows, scores " + scores.length);
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    int[] order = Sorting.byScore(scores, userIds, true);
    double p = 0;
    double r = 0;
    double ndcg = 0;
    int users = 0;
    int i = 0;
    while (i < order.length) {
      int j = i;
      while (j < order.length && userIds[order[j]] == userIds[order[i]]) {
        j++;
      }
      int rows = j - i;
      int positives = 0;
      for (int q = i; q < j; q++) {
        positives += labels[order[q]] > 0.5f ? 1 : 0;
      }
      if (positives > 0) {
        int top = Math.min(k, rows);
        int hits = 0;
        double dcg = 0;
        for (int q = 0; q < top; q++) {
          if (labels[order[i + q]] > 0.5f) {
            hits++;
            dcg += 1 / log2(q + 2);
          }
        }
        double ideal = 0;
        for (int q = 0; q < Math.min(top, positives); q++) {
          ideal += 1 / log2(q + 2);
        }
        p += (double) hits / top;
        r += (double) hits / positives;
        ndcg += dcg / ideal;
        users++;
      }
      i = j;
    }
    return users == 0
        ? new RankingMetrics(0, 0, 0, 0)
        : new RankingMetrics(p / users, r / users, ndcg / users, users);
  }

  /** Calibration: mean prediction vs observed rate, and the expected calibration error. */
  public record Calibration(double meanPredicted, double observedRate, double ece) {
    /** Mean predicted over observed rate: above 1 over-predicts; NaN without a positive. */
    public double ratio() {
      return observedRate == 0 ? Double.NaN : meanPredicted / observedRate;
    }
  }

  /**
   * ECE over 10 equal-width bins of the prediction, {@code Σ n_b/n · |mean_pred_b − rate_b|}; bin b
   * holds scores in [b/10, (b+1)/10), the last one also 1.0 (scores outside [0, 1] go to the end
   * bins).
   */
  public static Calibration calibration(float[] scores, float[] labels) {
    check(scores, labels);
    int bins = 10;
    double[] pred = new double[bins];
    double[] obs = new double[bins];
    long[] count = new long[bins];
    double sp = 0;
    double so = 0;
    for (int i = 0; i < scores.length; i++) {
      int b = Math.min(bins - 1, Math.max(0, (int) (scores[i] * bins)));
      pred[b] += scores[i];
      obs[b] += labels[i];
      count[b]++;
      sp += scores[i];
      so += labels[i];
    }
    double ece = 0;
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        ece += Math.abs(pred[b] - obs[b]) / scores.length;
      }
    }
    return new Calibration(sp / scores.length, so / scores.length, ece);
  }

  /** Every offline metric of one model on one holdout. */
  public record Evaluation(
      long n,
      long positives,
      double auc,
      double logLoss,
      RankingMetrics atTen,
      Calibration calibration) {

    /** The metrics under the names runs and registry records use. */
    public Map<String, Double> toMap() {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("auc", auc);
      m.put("logloss", logLoss);
      m.put("p_at_10", atTen.precisionAtK());
      m.put("recall_at_10", atTen.recallAtK());
      m.put("ndcg_at_10", atTen.ndcgAtK());
      m.put("ranking_users", (double) atTen.users());
      m.put("mean_predicted", calibration.meanPredicted());
      m.put("observed_rate", calibration.observedRate());
      m.put("ece", calibration.ece());
      m.put("n", (double) n);
      m.put("positives", (double) positives);
      return m;
    }
  }

  /** AUC, log loss, ranking at k = 10 and calibration of one holdout. */
  public static Evaluation evaluate(float[] scores, float[] labels, long[] userIds) {
    long positives = 0;
    for (float l : labels) {
      positives += l > 0.5f ? 1 : 0;
    }
    return new Evaluation(
        scores.length,
        positives,
        auc(scores, labels),
        logLoss(scores, labels),
        ranking(scores, labels, userIds, 10),
        calibration(scores, labels));
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  private static void check(float[] scores, float[] labels) {
    if (scores.length == 0) {
      throw new IllegalArgumentException("scores is empty");
    }
    if (labels.length != scores.length) {
      throw new IllegalArgumentException(
          "labels has " + labels.length + " rows, scores " + scores.length);
    }
    for (int i = 0; i < scores.length; i++) {
      if (labels[i] != 0f && labels[i] != 1f) {
        throw new IllegalArgumentException(
            "labels must be 0 or 1, found " + labels[i] + " at " + i);
      }
      if (Float.isNaN(scores[i])) {
        throw new IllegalArgumentException("scores must be probabilities, found NaN at " + i);
      }
    }
  }
}
