package io.feedrank.models.profile;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.ReferenceProfile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * Builds a model's reference profile (DESIGN §4, §5): per numeric feature a KLL quantile sketch,
 * its decile edges and the fraction of values in each bin, the mean; per categorical feature the
 * category fractions; the same for the model's scores. The drift job bins live values with the same
 * edges ({@link Bins#bin}) and compares fractions (PSI) and sketches (KS).
 *
 * <p>Bins are {@code (-inf, e0], (e0, e1], …, (e_last, +inf)}. Edges are the sketch's 0.1 … 0.9
 * quantiles with duplicates collapsed, so a feature that is mostly one value (counts of 0) gets
 * fewer, non-empty bins rather than empty duplicates. Fractions come from the sketch's CDF at the
 * edges (inclusive, matching the bin convention); with fewer values than the sketch's capacity the
 * sketch is exact.
 */
public final class ProfileBuilder {
  public static final int DEFAULT_K = 200;
  public static final int DEFAULT_MAX_CATEGORIES = 50;
  public static final String OTHER = "__other__";
  private static final double[] DECILES = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

  private final int k;
  private final int maxCategories;
  private final List<Feature> features = new ArrayList<>();
  private final Feature score;
  private long scores;

  private final class Feature {
    final String name;
    final DriftKind kind;
    final KllDoublesSketch sketch;
    final Map<String, Long> counts;
    double sum;
    long n;

    Feature(String name, DriftKind kind) {
      this.name = name;
      this.kind = kind;
      this.sketch = kind == DriftKind.CATEGORICAL ? null : KllDoublesSketch.newHeapInstance(k);
      this.counts = kind == DriftKind.CATEGORICAL ? new HashMap<>() : null;
    }
  }

  public ProfileBuilder() {
    this(DEFAULT_K, DEFAULT_MAX_CATEGORIES);
  }

  public ProfileBuilder(int k, int maxCategories) {
    if (k < 8 || maxCategories < 1) {
      throw new IllegalArgumentException("k must be >= 8 and maxCategories >= 1");
    }
    this.k = k;
    this.maxCategories = maxCategories;
    this.score = new Feature("score", DriftKind.PREDICTION);
  }

  /** Registers a numeric feature; returns its index for {@link #add}. */
  public int numeric(String name) {
    features.add(new Feature(name, DriftKind.NUMERIC));
    return features.size() - 1;
  }

  /** Registers a categorical feature; returns its index for {@link #addCategory}. */
  public int categorical(String name) {
    features.add(new Feature(name, DriftKind.CATEGORICAL));
    return features.size() - 1;
  }

  public void add(int feature, double value) {
    Feature f = features.get(feature);
    if (f.kind != DriftKind.NUMERIC) {
      throw new IllegalArgumentException(f.name + " is categorical");
    }
    numericValue(f, value);
  }

  public void addCategory(int feature, String category) {
    Feature f = features.get(feature);
    if (f.kind != DriftKind.CATEGORICAL) {
      throw new IllegalArgumentException(f.name + " is numeric");
    }
    f.counts.merge(category == null ? "" : category, 1L, Long::sum);
    f.n++;
  }

  /** A model score of one holdout row. */
  public void score(double value) {
    numericValue(score, value);
    scores++;
  }

  private static void numericValue(Feature f, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(
          "feature " + f.name + ": value " + value + " is not finite");
    }
    f.sketch.update(value);
    f.sum += value;
    f.n++;
  }

  /** The profile of everything added; {@code n} is the number of holdout rows. */
  public ReferenceProfile build(long n) {
    List<FeatureProfile> out = new ArrayList<>();
    for (Feature f : features) {
      out.add(f.kind == DriftKind.CATEGORICAL ? categorical(f) : numeric(f));
    }
    return ReferenceProfile.newBuilder()
        .setN(n)
        .setFeatures(out)
        .setScore(scores == 0 ? null : numeric(score))
        .build();
  }

  private FeatureProfile numeric(Feature f) {
    FeatureProfile.Builder b =
        FeatureProfile.newBuilder().setName(f.name).setKind(f.kind).setSketch(null);
    if (f.n == 0) {
      return b.setBinFractions(List.of()).setBinEdges(List.of()).setMean(0).build();
    }
    double[] q = f.sketch.getQuantiles(DECILES, QuantileSearchCriteria.INCLUSIVE);
    List<Double> edges = new ArrayList<>();
    for (double e : q) {
      if (edges.isEmpty() || e > edges.get(edges.size() - 1)) {
        edges.add(e);
      }
    }
    double[] split = edges.stream().mapToDouble(Double::doubleValue).toArray();
    double[] cdf = f.sketch.getCDF(split, QuantileSearchCriteria.INCLUSIVE);
    List<Double> fractions = new ArrayList<>();
    double previous = 0;
    for (double c : cdf) {
      fractions.add(Math.max(0, c - previous));
      previous = c;
    }
    return b.setBinEdges(edges)
        .setBinFractions(fractions)
        .setMean(f.sum / f.n)
        .setSketch(java.nio.ByteBuffer.wrap(f.sketch.toByteArray()))
        .build();
  }

  private FeatureProfile categorical(Feature f) {
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(f.counts.entrySet());
    sorted.sort(
        Comparator.comparing((Map.Entry<String, Long> e) -> -e.getValue())
            .thenComparing(Map.Entry::getKey));
    List<String> names = new ArrayList<>();
    List<Double> fractions = new ArrayList<>();
    long other = 0;
    for (int i = 0; i < sorted.size(); i++) {
      if (i < maxCategories) {
        names.add(sorted.get(i).getKey());
        fractions.add((double) sorted.get(i).getValue() / f.n);
      } else {
        other += sorted.get(i).getValue();
      }
    }
    if (other > 0) {
      names.add(OTHER);
      fractions.add((double) other / f.n);
    }
    return FeatureProfile.newBuilder()
        .setName(f.name)
        .setKind(DriftKind.CATEGORICAL)
        .setCategories(names)
        .setCategoryFractions(fractions)
        .setSketch(null)
        .build();
  }
}
