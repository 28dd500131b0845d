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

  public FeatureValue() {}

  public static FeatureValue numeric(String feature, String kind, double value, long eventTime) {
    FeatureValue v = new FeatureValue();
    v.feature = feature;
    v.kind = kind;
    v.value = value;
    v.eventTime = eventTime;
    return v;
  }

  public static FeatureValue categorical(String feature, String category, long eventTime) {
    FeatureValue v = new FeatureValue();
    v.feature = feature;
    v.kind = "CATEGORICAL";
    v.category = category;
    v.eventTime = eventTime;
    return v;
  }
}
