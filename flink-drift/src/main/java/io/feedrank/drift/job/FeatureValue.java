package io.feedrank.drift.job;

/**
 * One observation of one feature (or of the model's score) at an event time: numeric features carry
 * {@code value}, categorical ones {@code category}. A Flink POJO.
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
   * The sampling units this value opens: 1 for an observation of its own (a training example's
   * value), 1 for the first score of a served response and 0 for the rest of its scores, which come
   * with it from one user at one moment. A window's units are its sample size.
   */
  public int units;

  public FeatureValue() {}

  public static FeatureValue numeric(String feature, String kind, double value, long eventTime) {
    FeatureValue v = new FeatureValue();
    v.feature = feature;
    v.kind = kind;
    v.value = value;
    v.eventTime = eventTime;
    v.units = 1;
    return v;
  }

  /**
   * One of a served response's scores: {@code first} for the response's first, which counts the
   * response as one sampling unit.
   */
  public static FeatureValue score(String feature, double value, long eventTime, boolean first) {
    FeatureValue v = numeric(feature, "PREDICTION", value, eventTime);
    v.units = first ? 1 : 0;
    return v;
  }

  public static FeatureValue categorical(String feature, String category, long eventTime) {
    FeatureValue v = new FeatureValue();
    v.feature = feature;
    v.kind = "CATEGORICAL";
    v.category = category;
    v.eventTime = eventTime;
    v.units = 1;
    return v;
  }
}
