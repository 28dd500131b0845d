package io.feedrank.trainer.data;

import io.feedrank.events.Device;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import java.util.Arrays;
import java.util.Comparator;
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
   * A total order over every field, event time first: a run orders its examples by it (the sample
   * it keeps, the temporal split), so that examples of one millisecond, common at production rates,
   * take the same positions however a Kafka read interleaved its partitions. Ordered by event time
   * alone (a stable sort), they kept the read's order, and the seeded shuffle, the
   * standardization's sums and the split's boundaries saw another sequence at every run of the same
   * range and seed. Two examples it does not tell apart are equal in every field: either may stand
   * for the other.
   */
  public static final Comparator<Example> ORDER =
      Comparator.comparingLong(Example::eventTimeMillis)
          .thenComparingLong(Example::userId)
          .thenComparingLong(Example::itemId)
          .thenComparing(Example::click)
          .thenComparingInt(Example::hourOfDay)
          .thenComparingInt(Example::dayOfWeek)
          .thenComparing(Example::device)
          .thenComparing(Example::category)
          .thenComparing(Example::user, Arrays::compare)
          .thenComparing(Example::item, Arrays::compare)
          .thenComparing(Example::cross, Arrays::compare);

  /**
   * The compact form of a {@code TrainingExample}; refuses one of another feature schema, with
   * feature arrays of the wrong length, a feature that is not finite (as the float the model
   * takes), or an hour of day or day of week out of range, naming what is wrong. The streams app
   * writes none of these; a foreign or legacy producer might, and one such example failed every run
   * over its range: the vectorizer refuses the hour or day, uncaught, and a NaN or infinity made
   * its column's fitted mean NaN, the first epoch's loss NaN, and the run failed as a divergence.
   * Refused here, it is skipped and counted as unusable.
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
    if (e.getHourOfDay() < 0 || e.getHourOfDay() > 23) {
      throw new IllegalArgumentException(
          "training example "
              + e.getInteractionId()
              + ": hour_of_day must be 0-23, was "
              + e.getHourOfDay());
    }
    if (e.getDayOfWeek() < 1 || e.getDayOfWeek() > 7) {
      throw new IllegalArgumentException(
          "training example "
              + e.getInteractionId()
              + ": day_of_week must be 1-7, was "
              + e.getDayOfWeek());
    }
    return new Example(
        e.getUserId(),
        e.getItemId(),
        e.getEventTime().toEpochMilli(),
        e.getHourOfDay(),
        e.getDayOfWeek(),
        e.getDevice(),
        e.getItemCategory(),
        unboxed(e.getUserFeatures(), FeatureSchema.USER, "user_features", e),
        unboxed(e.getItemFeatures(), FeatureSchema.ITEM, "item_features", e),
        unboxed(e.getCrossFeatures(), FeatureSchema.CROSS, "cross_features", e),
        e.getClick());
  }

  private static double[] unboxed(
      List<Double> values, List<String> names, String field, TrainingExample e) {
    int expected = names.size();
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
      // beyond a float's range a rate or share (taken as it is) becomes an infinity in the tensor
      if (!(Math.abs(out[i]) <= Float.MAX_VALUE)) {
        throw new IllegalArgumentException(
            "training example "
                + e.getInteractionId()
                + ": "
                + field
                + "["
                + i
                + "] ("
                + names.get(i)
                + ") must be finite and within a float's range, was "
                + out[i]);
      }
    }
    return out;
  }
}
