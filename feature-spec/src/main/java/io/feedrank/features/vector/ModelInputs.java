package io.feedrank.features.vector;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 *   <li>a model listing {@link #PER_REQUEST} inputs in {@value #META_PER_REQUEST} also takes those
 *       as [1, width] / [1] for a batch of one user's candidates;
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

  /**
   * Lists, comma-separated, the inputs of {@link #PER_REQUEST} that the model computes with ONNX
   * broadcasting: a feeder scoring one user's candidates may give each of them one row (the user's)
   * while the other inputs have one row per candidate. A model without it needs N rows of every
   * input.
   */
  public static final String META_PER_REQUEST = "feedrank.per_request_inputs";

  /**
   * The inputs that describe the request rather than the candidate: the same in every row of a
   * ranking request.
   */
  public static final List<String> PER_REQUEST = List.of(USER, CONTEXT, USER_ID);

  /**
   * The inputs a model with these {@code metadata_props} accepts as one row per request ({@link
   * #META_PER_REQUEST}, restricted to {@link #PER_REQUEST}); empty for a model that needs every
   * input row by row.
   *
   * @throws IllegalArgumentException naming an input listed there that is not a per-request one
   */
  public static Set<String> perRequestInputs(Map<String, String> metadata) {
    String v = metadata.get(META_PER_REQUEST);
    if (v == null || v.isBlank()) {
      return Set.of();
    }
    Set<String> names = new HashSet<>();
    for (String name : v.split(",")) {
      String n = name.trim();
      if (!PER_REQUEST.contains(n)) {
        throw new IllegalArgumentException(
            META_PER_REQUEST + " lists '" + n + "', which is not one of " + PER_REQUEST);
      }
      names.add(n);
    }
    return Set.copyOf(names);
  }

  /**
   * The rows to feed {@code input} for a batch of {@code rows} candidates of one request: one (none
   * for an empty batch) when the model takes it per request ({@code perRequest}, from {@link
   * #perRequestInputs}), else {@code rows}.
   */
  public static int rowsFed(String input, Set<String> perRequest, int rows) {
    return perRequest.contains(input) ? Math.min(1, rows) : rows;
  }

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
