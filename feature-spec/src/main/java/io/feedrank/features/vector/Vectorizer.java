package io.feedrank.features.vector;

import io.feedrank.events.Device;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import java.util.List;

/**
 * Turns raw features (as {@link FeatureSchema} defines them) plus the request context into the
 * model's input groups. The trainer and the ranker both call this class, so the tensor a model is
 * trained on and the tensor it is served are built by the same code.
 *
 * <p>Groups, each one model input (see {@link ModelInputs}):
 *
 * <ul>
 *   <li>{@code user} ({@value #USER_WIDTH}), {@code item} ({@value #ITEM_WIDTH}), {@code cross}
 *       ({@value #CROSS_WIDTH}): the raw features of that group, each through its {@link Transform}
 *       — counts, durations and ages as {@code sign(x)·ln(1+|x|)}, rates and shares as they are;
 *   <li>{@code context} ({@value #CONTEXT_WIDTH}): hour of day and day of week as points on a
 *       circle (sin, cos), device one-hot;
 *   <li>{@code user_id}, {@code item_id}: the ids hashed into the model's embedding buckets.
 * </ul>
 *
 * No fitted state: scaling beyond the fixed transforms belongs to the model (the trainer folds its
 * standardisation into the first layer), so any model of schema {@value FeatureSchema#VERSION} can
 * be fed by this code.
 */
public final class Vectorizer {
  public static final int USER_WIDTH = FeatureSchema.USER.size();
  public static final int ITEM_WIDTH = FeatureSchema.ITEM.size();
  public static final int CROSS_WIDTH = FeatureSchema.CROSS.size();

  /** Names of the context group, in order. */
  public static final List<String> CONTEXT =
      List.of(
          "ctx_hour_sin",
          "ctx_hour_cos",
          "ctx_dow_sin",
          "ctx_dow_cos",
          "ctx_device_mobile",
          "ctx_device_desktop",
          "ctx_device_tablet",
          "ctx_device_unknown");

  public static final int CONTEXT_WIDTH = CONTEXT.size();

  private static final Transform[] USER_T = Transform.forNames(FeatureSchema.USER);
  private static final Transform[] ITEM_T = Transform.forNames(FeatureSchema.ITEM);
  private static final Transform[] CROSS_T = Transform.forNames(FeatureSchema.CROSS);

  /** What a feature goes through on its way into the tensor. */
  public enum Transform {
    /** Rates, shares, one-hots: already on a unit scale. */
    IDENTITY,
    /** Counts, seconds, hours, days: heavy-tailed, {@code sign(x)·ln(1+|x|)}. */
    SIGNED_LOG1P;

    public double apply(double x) {
      return this == IDENTITY ? x : Math.copySign(log1p(Math.abs(x)), x);
    }

    /**
     * {@code ln(1 + x)} for {@code x >= 0}, within a few ulps of {@link StrictMath#log1p}, whose
     * JDK 17 implementation is a native call: the ranker runs this once per feature and candidate,
     * and the calls were 2% of its CPU at 1,000 candidates. The correction {@code x / (u - 1)}
     * cancels the rounding of {@code u = 1 + x} (Goldberg, "What every computer scientist should
     * know about floating-point arithmetic", 1991, theorem 4); {@link Math#log} is a compiler
     * intrinsic.
     */
    static double log1p(double x) {
      double u = 1.0 + x;
      if (u == 1.0) {
        return x; // x under half an ulp of 1: ln(1 + x) = x - x²/2 rounds to x
      }
      if (u == x) {
        return Math.log(x); // 1 is under half an ulp of x (and x = +inf)
      }
      return Math.log(u) * (x / (u - 1.0));
    }

    /** The transform of each named feature of schema {@value FeatureSchema#VERSION}. */
    public static Transform[] forNames(List<String> names) {
      Transform[] t = new Transform[names.size()];
      for (int i = 0; i < t.length; i++) {
        t[i] = of(names.get(i));
      }
      return t;
    }

    static Transform of(String name) {
      boolean unitScale =
          name.contains("_ctr_")
              || name.contains("_rate_")
              || name.contains("_device_")
              || name.matches("u_hours_\\d\\d_\\d\\d")
              || name.contains("attention_share");
      return unitScale ? IDENTITY : SIGNED_LOG1P;
    }
  }

  /** The user group of {@code raw} ({@link FeatureSchema#USER} order) into {@code out[off..]}. */
  public static void user(double[] raw, float[] out, int off) {
    apply(raw, USER_T, out, off, "user");
  }

  public static void item(double[] raw, float[] out, int off) {
    apply(raw, ITEM_T, out, off, "item");
  }

  public static void cross(double[] raw, float[] out, int off) {
    apply(raw, CROSS_T, out, off, "cross");
  }

  /**
   * The context group.
   *
   * @param hourOfDay 0–23, UTC
   * @param dayOfWeek 1 (Monday) to 7 (Sunday), UTC
   */
  public static void context(int hourOfDay, int dayOfWeek, Device device, float[] out, int off) {
    if (hourOfDay < 0 || hourOfDay > 23) {
      throw new IllegalArgumentException("hour_of_day must be 0-23, was " + hourOfDay);
    }
    if (dayOfWeek < 1 || dayOfWeek > 7) {
      throw new IllegalArgumentException("day_of_week must be 1-7, was " + dayOfWeek);
    }
    double h = 2 * Math.PI * hourOfDay / 24.0;
    double d = 2 * Math.PI * (dayOfWeek - 1) / 7.0;
    out[off] = (float) Math.sin(h);
    out[off + 1] = (float) Math.cos(h);
    out[off + 2] = (float) Math.sin(d);
    out[off + 3] = (float) Math.cos(d);
    for (int i = 4; i < CONTEXT_WIDTH; i++) {
      out[off + i] = 0f;
    }
    out[off + 4 + deviceIndex(device)] = 1f;
  }

  /**
   * The embedding bucket of an id: a 64-bit mix of the id modulo {@code buckets}, so that
   * consecutive ids spread evenly and no id is ever out of range.
   */
  public static long bucket(long id, int buckets) {
    if (buckets <= 0) {
      throw new IllegalArgumentException("buckets must be > 0, was " + buckets);
    }
    long z = id + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return Math.floorMod(z, (long) buckets);
  }

  /** One training example as a single-row {@link ModelRow}. */
  public static ModelRow row(TrainingExample e, int userBuckets, int itemBuckets) {
    if (!FeatureSchema.canBuild(e.getFeatureSchemaVersion())) {
      throw new IllegalArgumentException(
          "training example of feature schema version "
              + e.getFeatureSchemaVersion()
              + "; this code builds version "
              + FeatureSchema.VERSION);
    }
    ModelRow r = new ModelRow();
    user(toArray(e.getUserFeatures(), USER_WIDTH, "user_features"), r.user, 0);
    item(toArray(e.getItemFeatures(), ITEM_WIDTH, "item_features"), r.item, 0);
    cross(toArray(e.getCrossFeatures(), CROSS_WIDTH, "cross_features"), r.cross, 0);
    context(e.getHourOfDay(), e.getDayOfWeek(), e.getDevice(), r.context, 0);
    r.userBucket = bucket(e.getUserId(), userBuckets);
    r.itemBucket = bucket(e.getItemId(), itemBuckets);
    return r;
  }

  private static double[] toArray(List<Double> values, int width, String field) {
    if (values.size() != width) {
      throw new IllegalArgumentException(
          field + " has " + values.size() + " values, schema expects " + width);
    }
    double[] a = new double[width];
    for (int i = 0; i < width; i++) {
      a[i] = values.get(i);
    }
    return a;
  }

  private static void apply(double[] raw, Transform[] t, float[] out, int off, String group) {
    if (raw.length != t.length) {
      throw new IllegalArgumentException(
          group + " features: " + raw.length + " values, schema expects " + t.length);
    }
    for (int i = 0; i < t.length; i++) {
      out[off + i] = (float) t[i].apply(raw[i]);
    }
  }

  private static int deviceIndex(Device d) {
    return switch (d == null ? Device.UNKNOWN : d) {
      case MOBILE -> 0;
      case DESKTOP -> 1;
      case TABLET -> 2;
      default -> 3;
    };
  }

  private Vectorizer() {}
}
