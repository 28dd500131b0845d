package io.feedrank.models.onnx;

/**
 * What every feedrank ONNX model carries in its {@code metadata_props} (keys in {@code
 * ModelInputs}): the feature schema it was trained on, so a ranker that cannot build it refuses it,
 * and the embedding bucket counts the feeder must hash ids into.
 */
public record ModelMetadata(
    int featureSchemaVersion, String architecture, int userBuckets, int itemBuckets) {

  public ModelMetadata {
    if (featureSchemaVersion < 1) {
      throw new IllegalArgumentException(
          "featureSchemaVersion must be >= 1, got " + featureSchemaVersion);
    }
    if (userBuckets < 1 || itemBuckets < 1) {
      throw new IllegalArgumentException(
          "bucket counts must be >= 1, got " + userBuckets + " / " + itemBuckets);
    }
  }
}
