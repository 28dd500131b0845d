package io.feedrank.trainer.data;

import io.feedrank.events.Device;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import java.util.List;

/**
 * One training example, compact: the raw features as primitive arrays instead of Avro's boxed lists
 * (about 650 bytes of heap an example, measured: a million take about 620 MiB), the context, the
 * ids and the click label.
 */
public record Example(
    long userId,
    long itemId,
    long eventTimeMillis,
    int hourOfDay,
    int dayOfWeek,
    Device device,
    String category,
    double[] user,
    double[] item,
    double[] cross,
    boolean click) {

  /**
   * The compact form of a {@code TrainingExample}; refuses one of another feature schema or with
   * feature arrays of the wrong length, naming what is wrong.
   */
  public static Example of(TrainingExample e) {
    if (e.getFeatureSchemaVersion() != FeatureSchema.VERSION) {
      throw new IllegalArgumentException(
          "training example "
              + e.getInteractionId()
              + " has feature_schema_version "
              + e.getFeatureSchemaVersion()
              + "; this trainer builds version "
              + FeatureSchema.VERSION);
    }
    return new Example(
        e.getUserId(),
        e.getItemId(),
        e.getEventTime().toEpochMilli(),
        e.getHourOfDay(),
        e.getDayOfWeek(),
        e.getDevice(),
        e.getItemCategory(),
        unboxed(e.getUserFeatures(), FeatureSchema.USER.size(), "user_features", e),
        unboxed(e.getItemFeatures(), FeatureSchema.ITEM.size(), "item_features", e),
        unboxed(e.getCrossFeatures(), FeatureSchema.CROSS.size(), "cross_features", e),
        e.getClick());
  }

  private static double[] unboxed(
      List<Double> values, int expected, String field, TrainingExample e) {
    if (values.size() != expected) {
      throw new IllegalArgumentException(
          "training example "
              + e.getInteractionId()
              + ": "
              + field
              + " has "
              + values.size()
              + " values, schema "
              + FeatureSchema.VERSION
              + " has "
              + expected);
    }
    double[] out = new double[expected];
    for (int i = 0; i < expected; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
