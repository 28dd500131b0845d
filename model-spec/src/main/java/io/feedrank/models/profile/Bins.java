package io.feedrank.models.profile;

import io.feedrank.events.FeatureProfile;
import java.util.List;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/** How live values are set against a reference profile; the drift job uses the same code. */
public final class Bins {
  private Bins() {}

  /**
   * The bin of {@code value} for inner edges {@code e}: 0 for {@code (-inf, e0]}, {@code i} for
   * {@code (e[i-1], e[i]]}, {@code e.length} for {@code (e_last, +inf)}.
   */
  public static int bin(double[] edges, double value) {
    int lo = 0;
    int hi = edges.length; // answer in [lo, hi]
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (value <= edges[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  public static double[] edges(FeatureProfile p) {
    return p.getBinEdges().stream().mapToDouble(Double::doubleValue).toArray();
  }

  /**
   * Population stability index {@code Σ (a − e)·ln(a/e)} over bins, a zero fraction on either side
   * replaced by {@code epsilon} (PSI is infinite otherwise).
   */
  public static double psi(double[] expected, double[] actual, double epsilon) {
    if (expected.length != actual.length) {
      throw new IllegalArgumentException(
          "psi: " + expected.length + " expected bins, " + actual.length + " actual");
    }
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.max(expected[i], epsilon);
      double a = Math.max(actual[i], epsilon);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  public static double[] fractions(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The KLL sketch a numeric profile carries, for KS tests. */
  public static KllDoublesSketch sketch(FeatureProfile p) {
    if (p.getSketch() == null) {
      throw new IllegalArgumentException("profile of " + p.getName() + " has no sketch");
    }
    byte[] bytes = new byte[p.getSketch().remaining()];
    p.getSketch().duplicate().get(bytes);
    return KllDoublesSketch.heapify(Memory.wrap(bytes));
  }
}
