package io.feedrank.drift.job;

/**
 * One observation of one feature at an event time, or the model's scores of one served response:
 * numeric features carry {@code value}, categorical ones {@code category}, a response's scores
 * {@code values}. Each record is one sampling unit of its window. A Flink POJO.
 */
public class FeatureValue {
  /** The feature name of the one marker each training example also emits (for volume counts). */
  public static final String EXAMPLE = "__example__";

  public String feature;

  /** NUMERIC, CATEGORICAL or PREDICTION (a {@code DriftKind} name). */
  public String kind;

  public double value;
  public String category;
  public long eventTime;

  /**
   * A served response's scores, all in one record (null for any other observation, whose one value
   * is {@link #value}). They come from one user at one moment, so they are one sampling unit, not
   * 100; and one record, not 100 trips through the shuffle to the one key all scores share.
   */
  public double[] values;

  public FeatureValue() {}

  public static FeatureValue numeric(String feature, String kind, double value, long eventTime) {
    FeatureValue v = of(feature, kind, eventTime);
    v.value = value;
    return v;
  }

  /**
   * The key of {@code version}'s scores of {@code feature}: each model version's scores are windows
   * of their own, judged against that version's reference only. Within a window of one key the
   * scores of two models (the old one's until every ranker has swapped, or all of a ranker's that
   * refused the promotion) would be judged against the new model's reference, and the old model's
   * score distribution taken for the new one's drift.
   */
  public static String versioned(String feature, String version) {
    return feature + VERSION_MARK + version;
  }

  /** Between a feature and its model version in a {@link #versioned} key. */
  public static final char VERSION_MARK = '@';

  /** The feature of a {@link #versioned} key, or the key itself. */
  public static String featureOf(String key) {
    int at = key.indexOf(VERSION_MARK);
    return at < 0 ? key : key.substring(0, at);
  }

  /** The model version of a {@link #versioned} key, or null for any other. */
  public static String versionOf(String key) {
    int at = key.indexOf(VERSION_MARK);
    return at < 0 ? null : key.substring(at + 1);
  }

  /** A served response's scores (kind PREDICTION). */
  public static FeatureValue scores(String feature, double[] values, long eventTime) {
    FeatureValue v = of(feature, "PREDICTION", eventTime);
    v.values = values;
    return v;
  }

  public static FeatureValue categorical(String feature, String category, long eventTime) {
    FeatureValue v = of(feature, "CATEGORICAL", eventTime);
    v.category = category;
    return v;
  }

  private static FeatureValue of(String feature, String kind, long eventTime) {
    FeatureValue v = new FeatureValue();
    v.feature = feature;
    v.kind = kind;
    v.eventTime = eventTime;
    return v;
  }

  /** The values this record holds: its scores, or one. */
  public int count() {
    return values == null ? 1 : values.length;
  }
}
