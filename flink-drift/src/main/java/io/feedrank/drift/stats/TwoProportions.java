package io.feedrank.drift.stats;

import org.apache.commons.math3.distribution.NormalDistribution;

/** The pooled two-proportion z-test, as for a click-through rate against a baseline. */
public final class TwoProportions {
  private static final NormalDistribution NORMAL = new NormalDistribution();

  private TwoProportions() {}

  /**
   * The one-sided p-value that the rate {@code x2 / n2} is lower than {@code x1 / n1}: {@code
   * Φ(z)}, {@code z = (p2 − p1) / sqrt(p(1 − p)(1/n1 + 1/n2))} with {@code p} the pooled rate. 1
   * when the pooled rate is 0 or 1 (no variance: nothing to tell apart).
   */
  public static double lowerPValue(long x1, long n1, long x2, long n2) {
    if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2) {
      throw new IllegalArgumentException(
          "two proportions: " + x1 + "/" + n1 + " and " + x2 + "/" + n2);
    }
    double pooled = (double) (x1 + x2) / (n1 + n2);
    double variance = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2);
    if (variance == 0) {
      return 1;
    }
    double z = ((double) x2 / n2 - (double) x1 / n1) / Math.sqrt(variance);
    return NORMAL.cumulativeProbability(z);
  }
}
