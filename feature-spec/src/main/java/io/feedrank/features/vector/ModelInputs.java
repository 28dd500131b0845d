package io.feedrank.features.vector;

/**
 * The contract between an ONNX model and the code that feeds it: input and output names, shapes and
 * the metadata a model carries. A model declares the inputs it uses (a subset); the feeder supplies
 * exactly those.
 *
 * <ul>
 *   <li>{@value #USER} float [N, {@value Vectorizer#USER_WIDTH}], {@value #ITEM} float [N, {@value
 *       Vectorizer#ITEM_WIDTH}], {@value #CROSS} float [N, {@value Vectorizer#CROSS_WIDTH}],
 *       {@value #CONTEXT} float [N, {@value Vectorizer#CONTEXT_WIDTH}];
 *   <li>{@value #USER_ID}, {@value #ITEM_ID} int64 [N]: embedding buckets ({@link
 *       Vectorizer#bucket});
 *   <li>output {@value #SCORE} float [N] (a click probability) for a full model; {@value
 *       #USER_VECTOR} / {@value #ITEM_VECTOR} float [N, d] for the towers of a two-tower model,
 *       whose score is {@code sigmoid(user_vec · item_vec)}.
 * </ul>
 */
public final class ModelInputs {
  public static final String USER = "user";
  public static final String ITEM = "item";
  public static final String CROSS = "cross";
  public static final String CONTEXT = "context";
  public static final String USER_ID = "user_id";
  public static final String ITEM_ID = "item_id";
  public static final String SCORE = "score";
  public static final String USER_VECTOR = "user_vec";
  public static final String ITEM_VECTOR = "item_vec";

  /** ONNX metadata_props keys every feedrank model carries. */
  public static final String META_SCHEMA_VERSION = "feedrank.feature_schema_version";

  public static final String META_USER_BUCKETS = "feedrank.user_id_buckets";
  public static final String META_ITEM_BUCKETS = "feedrank.item_id_buckets";
  public static final String META_ARCHITECTURE = "feedrank.architecture";

  /** Roles of a two-tower model's tower artifacts in {@code ModelVersion.artifacts}. */
  public static final String ROLE_USER_TOWER = "user_tower";

  public static final String ROLE_ITEM_TOWER = "item_tower";

  /**
   * Suffix of the key holding an artifact's SHA-256 in {@code ModelVersion.artifacts}: {@code
   * user_tower.sha256} next to {@code user_tower}.
   */
  public static final String SHA256_SUFFIX = ".sha256";

  private ModelInputs() {}
}
