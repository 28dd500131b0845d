package io.feedrank.models.profile;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * How live values are set against a reference profile, with the conventions {@link ProfileBuilder}
 * wrote it with; the drift job bins and compares through these helpers only.
 */
public final class Bins {
  private Bins() {}

  /**
   * The bin of {@code value} for strictly increasing inner edges {@code e}: 0 for {@code (-inf,
   * e0]}, {@code i} for {@code (e[i-1], e[i]]}, {@code e.length} for {@code (e_last, +inf)}.
   * Infinities fall in the outer bins; NaN is refused.
   */
  public static int bin(double[] innerEdges, double value) {
    if (Double.isNaN(value)) {
      throw new IllegalArgumentException("value NaN has no bin");
    }
    int lo = 0;
    int hi = innerEdges.length; // the answer is in [lo, hi]
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (value <= innerEdges[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /**
   * The bin of a live category for a categorical profile: the category's index in {@code
   * categories}; an unknown one (or null, read as {@code ""}) goes to {@link ProfileBuilder#OTHER}
   * if the profile has that bucket, else to {@code categories.size()}, the unseen bin whose
   * expected fraction is 0 (see {@link #categoryFractions}).
   */
  public static int categoryBin(List<String> categories, String category) {
    int i = categories.indexOf(category == null ? "" : category);
    if (i >= 0) {
      return i;
    }
    int other = categories.indexOf(ProfileBuilder.OTHER);
    return other >= 0 ? other : categories.size();
  }

  /** The inner bin edges of a numeric or prediction profile. */
  public static double[] edges(FeatureProfile profile) {
    return unboxed(profile.getBinEdges());
  }

  /** The expected fractions of a numeric or prediction profile, one per bin of {@link #bin}. */
  public static double[] binFractions(FeatureProfile profile) {
    return unboxed(profile.getBinFractions());
  }

  /**
   * The expected fractions of a categorical profile, one per bin of {@link #categoryBin}: the
   * category fractions followed by 0 for the unseen bin.
   */
  public static double[] categoryFractions(FeatureProfile profile) {
    if (profile.getKind() != DriftKind.CATEGORICAL) {
      throw new IllegalArgumentException("profile of " + profile.getName() + " is not categorical");
    }
    List<Double> f = profile.getCategoryFractions();
    double[] out = new double[f.size() + 1];
    for (int i = 0; i < f.size(); i++) {
      out[i] = f.get(i);
    }
    return out;
  }

  /** Counts per bin as fractions of their total. */
  public static double[] fractions(long[] counts) {
    long total = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("bin count must be >= 0, was " + c);
      }
      total += c;
    }
    if (total == 0) {
      throw new IllegalArgumentException("no values in " + counts.length + " bins");
    }
    double[] out = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      out[i] = (double) counts[i] / total;
    }
    return out;
  }

  /**
   * Population stability index {@code Σ (a − e)·ln(a/e)} over bins. A fraction below {@code
   * epsilon} on either side counts as {@code epsilon}: empty bins would make PSI infinite, and
   * residues of sketch arithmetic (1e-17 instead of 0) would make it huge. A bin empty on both
   * sides adds 0.
   */
  public static double psi(double[] expectedFractions, double[] actualFractions, double epsilon) {
    if (expectedFractions.length != actualFractions.length) {
      throw new IllegalArgumentException(
          "psi: "
              + expectedFractions.length
              + " expected bins but "
              + actualFractions.length
              + " actual");
    }
    if (!(epsilon > 0 && epsilon < 1)) {
      throw new IllegalArgumentException("psi: epsilon must be in (0, 1), was " + epsilon);
    }
    double psi = 0;
    for (int i = 0; i < expectedFractions.length; i++) {
      double e = Math.max(expectedFractions[i], epsilon);
      double a = Math.max(actualFractions[i], epsilon);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /** The KLL sketch a numeric or prediction profile carries (a heap copy: it may be merged). */
  public static KllDoublesSketch sketch(FeatureProfile profile) {
    ByteBuffer bytes = profile.getSketch();
    if (bytes == null) {
      throw new IllegalArgumentException("profile of " + profile.getName() + " has no sketch");
    }
    byte[] copy = new byte[bytes.remaining()];
    bytes.duplicate().get(copy);
    return KllDoublesSketch.heapify(Memory.wrap(copy));
  }

  private static double[] unboxed(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
