package io.feedrank.models.profile;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * Turns what a feature has seen into its {@link FeatureProfile}; rules in {@link ProfileBuilder}.
 */
final class FeatureProfiles {
  private static final double[] DECILES = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

  private FeatureProfiles() {}

  static FeatureProfile numeric(String name, DriftKind kind, KllDoublesSketch sketch, double mean) {
    FeatureProfile.Builder b =
        FeatureProfile.newBuilder()
            .setName(name)
            .setKind(kind)
            .setMean(mean)
            .setSketch(ByteBuffer.wrap(sketch.toByteArray()));
    if (sketch.isEmpty()) {
      return b.setBinEdges(List.of()).setBinFractions(List.of()).build();
    }
    double[] edges = innerEdges(sketch);
    return b.setBinEdges(boxed(edges)).setBinFractions(boxed(binFractions(sketch, edges))).build();
  }

  /** The inclusive deciles of a non-empty sketch, strictly increasing (repeats dropped). */
  static double[] innerEdges(KllDoublesSketch sketch) {
    double[] deciles = sketch.getQuantiles(DECILES, QuantileSearchCriteria.INCLUSIVE);
    double[] edges = new double[deciles.length];
    int m = 0;
    for (double d : deciles) {
      if (m == 0 || d > edges[m - 1]) {
        edges[m++] = d;
      }
    }
    return Arrays.copyOf(edges, m);
  }

  /**
   * Fractions of the sketch's values in {@code (-inf, e0], (e0, e1], …, (e_last, +inf)}: successive
   * differences of the inclusive CDF (fraction of values {@code <= e}), whose last entry is 1.
   */
  static double[] binFractions(KllDoublesSketch sketch, double[] edges) {
    double[] cdf = sketch.getCDF(edges, QuantileSearchCriteria.INCLUSIVE);
    double[] fractions = new double[cdf.length];
    double previous = 0;
    for (int i = 0; i < cdf.length; i++) {
      fractions[i] = cdf[i] - previous;
      previous = cdf[i];
    }
    return fractions;
  }

  static FeatureProfile categorical(
      String name, Map<String, Long> counts, long n, int maxCategories) {
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(
        Comparator.comparing((Map.Entry<String, Long> e) -> e.getValue())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    List<String> categories = new ArrayList<>();
    List<Double> fractions = new ArrayList<>();
    long other = 0;
    for (Map.Entry<String, Long> e : sorted) {
      // a category literally named like the bucket joins the bucket, so names stay unique
      if (categories.size() < maxCategories && !ProfileBuilder.OTHER.equals(e.getKey())) {
        categories.add(e.getKey());
        fractions.add((double) e.getValue() / n);
      } else {
        other += e.getValue();
      }
    }
    if (other > 0) {
      categories.add(ProfileBuilder.OTHER);
      fractions.add((double) other / n);
    }
    return FeatureProfile.newBuilder()
        .setName(name)
        .setKind(DriftKind.CATEGORICAL)
        .setCategories(categories)
        .setCategoryFractions(fractions)
        .setSketch(null)
        .build();
  }

  private static List<Double> boxed(double[] values) {
    List<Double> out = new ArrayList<>(values.length);
    for (double v : values) {
      out.add(v);
    }
    return out;
  }
}
