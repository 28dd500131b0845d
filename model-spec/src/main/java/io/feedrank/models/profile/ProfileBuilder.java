package io.feedrank.models.profile;

import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.HourScoreProfile;
import io.feedrank.events.ReferenceProfile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.kll.KllSketch;

/**
 * Builds a model's reference profile (DESIGN §4, §5): per numeric feature a KLL quantile sketch,
 * its decile edges, the fraction of values in each bin and the mean; per categorical feature the
 * category fractions; the same numeric summary for the model's scores (kind {@code PREDICTION}),
 * for all of them and for those of each UTC hour of day ({@link #score(double, int)}: the score
 * follows the daily cycle, and the drift job sets a window of a few minutes against its own
 * hour's). The drift job bins live values with the same edges ({@link Bins#bin}, {@link
 * Bins#categoryBin}) and compares fractions (PSI) and sketches (KS).
 *
 * <p>Bins are {@code (-inf, e0], (e0, e1], …, (e_last, +inf)}. The edges are the sketch's inclusive
 * 0.1 … 0.9 quantiles with repeats dropped (strictly increasing), so a feature that is mostly one
 * value (counts of 0) gets fewer bins rather than empty duplicates. Every edge is a value that
 * occurred, so every bin but the last holds values; the last one, {@code (e_last, +inf)}, is empty
 * exactly when {@code e_last} is the maximum (a flag, a constant), and then catches live values
 * above anything the reference saw. The fractions are differences of the sketch's inclusive CDF at
 * the edges, which matches the {@code (…]} convention; they are exact while a feature has at most
 * {@code k} values and otherwise within the sketch's rank error, and they sum to 1. A feature
 * without values gets no edges and no fractions. Categories are sorted by frequency, most frequent
 * first (ties by name); beyond {@code maxCategories} the rest are summed into {@link #OTHER}. A
 * null category counts as {@code ""}.
 *
 * <p>Not thread-safe: one builder per profile, fed by one thread.
 */
public final class ProfileBuilder {
  public static final int DEFAULT_K = 200;
  public static final int DEFAULT_MAX_CATEGORIES = 50;
  public static final String OTHER = "__other__";
  public static final String SCORE = "score";

  private static final int MIN_K = 8;
  private static final int HOURS = 24;

  private final int k;
  private final int maxCategories;
  private final List<Accumulator> features = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private final Accumulator score;
  private final Accumulator[] scoreByHour = new Accumulator[HOURS];

  /** {@link #DEFAULT_K} and {@link #DEFAULT_MAX_CATEGORIES}. */
  public ProfileBuilder() {
    this(DEFAULT_K, DEFAULT_MAX_CATEGORIES);
  }

  /**
   * @param k KLL accuracy parameter (normalized rank error about 1.33% at k = 200, 99% confidence)
   * @param maxCategories categories kept per categorical feature before {@link #OTHER}
   */
  public ProfileBuilder(int k, int maxCategories) {
    if (k < MIN_K || k > KllSketch.MAX_K) {
      throw new IllegalArgumentException(
          "k must be in [" + MIN_K + ", " + KllSketch.MAX_K + "], was " + k);
    }
    if (maxCategories < 1) {
      throw new IllegalArgumentException("maxCategories must be >= 1, was " + maxCategories);
    }
    this.k = k;
    this.maxCategories = maxCategories;
    this.score = new Accumulator(SCORE, DriftKind.PREDICTION, k);
  }

  /** Registers a numeric feature; returns its index for {@link #add}. Names are unique. */
  public int numeric(String name) {
    return register(name, DriftKind.NUMERIC);
  }

  /** Registers a categorical feature; returns its index for {@link #addCategory}. */
  public int categorical(String name) {
    return register(name, DriftKind.CATEGORICAL);
  }

  /** One value of a numeric feature; NaN and infinities are refused. */
  public void add(int feature, double value) {
    Accumulator f = feature(feature);
    if (f.kind != DriftKind.NUMERIC) {
      throw new IllegalArgumentException("feature " + f.name + " is categorical, not numeric");
    }
    f.add(value);
  }

  /** One value of a categorical feature. */
  public void addCategory(int feature, String category) {
    Accumulator f = feature(feature);
    if (f.kind != DriftKind.CATEGORICAL) {
      throw new IllegalArgumentException("feature " + f.name + " is numeric, not categorical");
    }
    f.counts.merge(category == null ? "" : category, 1L, Long::sum);
    f.n++;
  }

  /** The model's score on one holdout row; NaN and infinities are refused. */
  public void score(double value) {
    score.add(value);
  }

  /**
   * The model's score on one holdout row of UTC hour of day {@code hourOfDay}: in the whole profile
   * and in that hour's. NaN and infinities are refused, as is an hour outside 0-23.
   */
  public void score(double value, int hourOfDay) {
    if (hourOfDay < 0 || hourOfDay >= HOURS) {
      throw new IllegalArgumentException("hourOfDay must be 0-23, was " + hourOfDay);
    }
    score.add(value);
    if (scoreByHour[hourOfDay] == null) {
      scoreByHour[hourOfDay] = new Accumulator(SCORE, DriftKind.PREDICTION, k);
    }
    scoreByHour[hourOfDay].add(value);
  }

  /**
   * The profile of everything added, with {@code n} the largest number of values any feature or the
   * score received — the row count when every row feeds every feature.
   */
  public ReferenceProfile build() {
    long n = score.n;
    for (Accumulator f : features) {
      n = Math.max(n, f.n);
    }
    return build(n);
  }

  /** The profile of everything added; {@code n} is the number of holdout rows. */
  public ReferenceProfile build(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, was " + n);
    }
    List<FeatureProfile> out = new ArrayList<>(features.size());
    for (Accumulator f : features) {
      out.add(
          f.kind == DriftKind.CATEGORICAL
              ? FeatureProfiles.categorical(f.name, f.counts, f.n, maxCategories)
              : FeatureProfiles.numeric(f.name, f.kind, f.sketch, f.mean()));
    }
    FeatureProfile scores =
        score.n == 0
            ? null
            : FeatureProfiles.numeric(SCORE, score.kind, score.sketch, score.mean());
    List<HourScoreProfile> byHour = new ArrayList<>();
    for (int h = 0; h < HOURS; h++) {
      Accumulator a = scoreByHour[h];
      if (a != null) {
        byHour.add(
            HourScoreProfile.newBuilder()
                .setHour(h)
                .setN(a.n)
                .setScore(FeatureProfiles.numeric(SCORE, a.kind, a.sketch, a.mean()))
                .build());
      }
    }
    return ReferenceProfile.newBuilder()
        .setN(n)
        .setFeatures(out)
        .setScore(scores)
        .setScoreByHour(byHour)
        .build();
  }

  private int register(String name, DriftKind kind) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("feature name must not be empty");
    }
    if (!names.add(name)) {
      throw new IllegalArgumentException("feature " + name + " is already registered");
    }
    features.add(new Accumulator(name, kind, k));
    return features.size() - 1;
  }

  private Accumulator feature(int index) {
    if (index < 0 || index >= features.size()) {
      throw new IllegalArgumentException(
          "feature index " + index + " not in [0, " + features.size() + ")");
    }
    return features.get(index);
  }

  /** What one feature has seen: a sketch and a compensated sum, or category counts. */
  private static final class Accumulator {
    final String name;
    final DriftKind kind;
    final KllDoublesSketch sketch;
    final Map<String, Long> counts;
    long n;
    private double sum;
    private double compensation; // Neumaier: the low-order bits the running sum lost

    Accumulator(String name, DriftKind kind, int k) {
      this.name = name;
      this.kind = kind;
      boolean categorical = kind == DriftKind.CATEGORICAL;
      this.sketch = categorical ? null : KllDoublesSketch.newHeapInstance(k);
      this.counts = categorical ? new HashMap<>() : null;
    }

    void add(double value) {
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException(
            "feature " + name + ": value " + value + " is not finite");
      }
      sketch.update(value);
      double t = sum + value;
      compensation += Math.abs(sum) >= Math.abs(value) ? (sum - t) + value : (value - t) + sum;
      sum = t;
      n++;
    }

    double mean() {
      return n == 0 ? 0.0 : (sum + compensation) / n;
    }
  }
}
