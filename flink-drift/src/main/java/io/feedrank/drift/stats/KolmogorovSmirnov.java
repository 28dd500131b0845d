package io.feedrank.drift.stats;

import java.util.Arrays;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * Two-sample Kolmogorov–Smirnov: the statistic exactly from two samples or estimated from two KLL
 * sketches, and its asymptotic two-sided p-value.
 */
public final class KolmogorovSmirnov {
  private static final KolmogorovSmirnovTest TEST = new KolmogorovSmirnovTest();

  private KolmogorovSmirnov() {}

  /**
   * {@code D = sup_x |F_a(x) − F_b(x)|} of the two empirical CDFs. Every value must be finite: a
   * NaN sorts last and is not {@code <=} anything, so the walk below would never pass it (it looped
   * forever); the job leaves non-finite values out of its windows, and so must any other caller.
   */
  public static double statistic(double[] a, double[] b) {
    require(a.length > 0 && b.length > 0, "both samples must be non-empty");
    requireFinite(a, "a");
    requireFinite(b, "b");
    double[] x = a.clone();
    double[] y = b.clone();
    Arrays.sort(x);
    Arrays.sort(y);
    int i = 0;
    int j = 0;
    double d = 0;
    while (i < x.length && j < y.length) {
      double v = Math.min(x[i], y[j]);
      while (i < x.length && x[i] <= v) {
        i++;
      }
      while (j < y.length && y[j] <= v) {
        j++;
      }
      d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
    }
    return d;
  }

  /**
   * D estimated from two sketches: both CDFs evaluated (inclusive) at every item either sketch
   * retains, where the empirical CDFs step. Each sketch's ranks are off by at most its normalized
   * rank error ε (99% confidence), so {@code |D_sketch − D_exact| ≤ ε_a + ε_b} (see {@link
   * #errorBound}); with fewer values than the sketch's k it is exact.
   */
  public static double statistic(KllDoublesSketch a, KllDoublesSketch b) {
    require(!a.isEmpty() && !b.isEmpty(), "both sketches must be non-empty");
    double[] qa = a.getSortedView().getQuantiles();
    double[] qb = b.getSortedView().getQuantiles();
    double[] points = new double[qa.length + qb.length];
    System.arraycopy(qa, 0, points, 0, qa.length);
    System.arraycopy(qb, 0, points, qa.length, qb.length);
    double[] ra = a.getRanks(points, QuantileSearchCriteria.INCLUSIVE);
    double[] rb = b.getRanks(points, QuantileSearchCriteria.INCLUSIVE);
    double d = 0;
    for (int i = 0; i < points.length; i++) {
      d = Math.max(d, Math.abs(ra[i] - rb[i]));
    }
    return d;
  }

  /** The bound on |D from sketches − exact D|: the sum of both sketches' rank errors. */
  public static double errorBound(KllDoublesSketch a, KllDoublesSketch b) {
    return a.getNormalizedRankError(false) + b.getNormalizedRankError(false);
  }

  /**
   * Asymptotic two-sided p-value: the Kolmogorov distribution's upper tail at {@code √(nm/(n+m)) ·
   * D}, as scipy's {@code kstwobign.sf}.
   */
  public static double pValue(double d, long n, long m) {
    require(n > 0 && m > 0, "sample sizes must be > 0");
    require(d >= 0 && d <= 1, "D must be in [0, 1], got " + d);
    double t = Math.sqrt((double) n * m / (n + m)) * d;
    if (t < 0.1) {
      // the distribution's CDF there is below 1e-50 (≈ √(2π)/t · e^(−π²/8t²)), so the tail is 1;
      // and the alternating series ksSum sums would need about 4.8/t terms: past 100,000 (t
      // below 5e-5, a D of 1e-6 between large samples) it throws instead
      return 1.0;
    }
    double p = 1 - TEST.ksSum(t, 1e-20, 100_000);
    return Math.min(1, Math.max(0, p));
  }

  private static void requireFinite(double[] sample, String name) {
    for (int i = 0; i < sample.length; i++) {
      require(
          Double.isFinite(sample[i]),
          "sample " + name + " must hold finite values only, has " + sample[i] + " at " + i);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("KS: " + message);
    }
  }
}
