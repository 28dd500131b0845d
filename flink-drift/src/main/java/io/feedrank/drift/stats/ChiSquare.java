package io.feedrank.drift.stats;

import org.apache.commons.math3.distribution.ChiSquaredDistribution;

/** Pearson's chi-square goodness of fit of observed counts to expected fractions. */
public final class ChiSquare {
  private ChiSquare() {}

  /** The statistic, its degrees of freedom and the upper-tail p-value. */
  public record Result(double statistic, int degreesOfFreedom, double pValue) {}

  /**
   * {@code Σ (o − e)² / e} with {@code e = n · fraction} over the bins the reference expects
   * ({@code fraction > 0}); observations in a bin the reference gives no mass count against the
   * test with an expected count of {@code n · 1e-4} (PSI's epsilon), so an unseen category is drift
   * rather than ignored. Degrees of freedom: bins used − 1.
   */
  public static Result test(long[] observed, double[] expectedFractions) {
    if (observed.length != expectedFractions.length || observed.length == 0) {
      throw new IllegalArgumentException(
          "chi-square: "
              + observed.length
              + " observed bins, "
              + expectedFractions.length
              + " expected");
    }
    long n = 0;
    for (long o : observed) {
      n += o;
    }
    if (n == 0) {
      throw new IllegalArgumentException("chi-square: no observations");
    }
    double stat = 0;
    int bins = 0;
    for (int i = 0; i < observed.length; i++) {
      double f = expectedFractions[i];
      if (f <= 0 && observed[i] == 0) {
        continue;
      }
      double e = n * Math.max(f, 1e-4);
      double diff = observed[i] - e;
      stat += diff * diff / e;
      bins++;
    }
    int df = Math.max(1, bins - 1);
    double p = 1 - new ChiSquaredDistribution(df).cumulativeProbability(stat);
    return new Result(stat, df, Math.max(0, p));
  }
}
