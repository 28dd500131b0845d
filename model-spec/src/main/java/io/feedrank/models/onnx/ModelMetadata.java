package io.feedrank.models.onnx;

/**
 * What every feedrank ONNX model carries in its {@code metadata_props} (keys in {@code
 * ModelInputs}): the feature schema it was trained on, so a ranker that cannot build it refuses it,
 * and the embedding bucket counts the feeder must hash ids into. A trained model also names the
 * build of the trainer that made it ({@value #META_BUILD}) and its run ({@value #META_RUN_ID}), so
 * a file found apart from its registry record and {@code run.json} still says where it came from;
 * null (left out) for models made elsewhere, e.g. in tests.
 */
public record ModelMetadata(
    int featureSchemaVersion,
    String architecture,
    int userBuckets,
    int itemBuckets,
    String build,
    String runId) {
  public static final String META_BUILD = "feedrank.build";
  public static final String META_RUN_ID = "feedrank.run_id";

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

  /** Metadata without a build or run. */
  public ModelMetadata(
      int featureSchemaVersion, String architecture, int userBuckets, int itemBuckets) {
    this(featureSchemaVersion, architecture, userBuckets, itemBuckets, null, null);
  }
}
