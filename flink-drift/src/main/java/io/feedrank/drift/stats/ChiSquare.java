package io.feedrank.drift.stats;

import org.apache.commons.math3.distribution.ChiSquaredDistribution;

/**
 * Pearson's chi-square: of a window's category counts against a reference sample ({@link
 * #twoSample}, what the drift job reports), or against exact fractions ({@link #test}).
 */
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
    long n = observations(observed, expectedFractions, "expected");
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

  /**
   * The two-sample test of homogeneity (scipy's {@code chi2_contingency(..., correction=False)}) of
   * the window's counts against the reference's, which are {@code referenceN · fraction}: the
   * reference is a sample too (a few thousand holdout rows), so its fractions are not exact. Taken
   * as exact, as {@link #test} does, they made every large stationary window look different: with
   * 2,000 reference rows and windows of 50,000 values, p fell below 0.01 in about 99% of windows
   * where the contingency test does so in about 1%. Categories neither sample has are left out; one
   * only the window has counts against the test. Degrees of freedom: categories used − 1.
   */
  public static Result twoSample(long[] observed, double[] referenceFractions, long referenceN) {
    if (referenceN <= 0) {
      throw new IllegalArgumentException("chi-square: reference size must be > 0");
    }
    long n = observations(observed, referenceFractions, "reference");
    double total = n + (double) referenceN;
    double stat = 0;
    int bins = 0;
    for (int i = 0; i < observed.length; i++) {
      double reference = referenceN * Math.max(0, referenceFractions[i]);
      double column = reference + observed[i];
      if (column <= 0) {
        continue;
      }
      double expectedReference = column * referenceN / total;
      double expectedWindow = column * n / total;
      double dr = reference - expectedReference;
      double dw = observed[i] - expectedWindow;
      stat += dr * dr / expectedReference + dw * dw / expectedWindow;
      bins++;
    }
    if (bins < 2) {
      return new Result(0, 0, 1.0); // one category in all: nothing can differ
    }
    int df = bins - 1;
    double p = 1 - new ChiSquaredDistribution(df).cumulativeProbability(stat);
    return new Result(stat, df, Math.max(0, p));
  }

  /** The observations in all, once the bins are checked against {@code fractions}. */
  private static long observations(long[] observed, double[] fractions, String of) {
    if (observed.length != fractions.length || observed.length == 0) {
      throw new IllegalArgumentException(
          "chi-square: " + observed.length + " observed bins, " + fractions.length + " " + of);
    }
    long n = 0;
    for (long o : observed) {
      n += o;
    }
    if (n == 0) {
      throw new IllegalArgumentException("chi-square: no observations");
    }
    return n;
  }
}
