package io.feedrank.ranker.models;

import io.feedrank.events.Device;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.ArtifactTooLargeException;
import io.feedrank.models.Checksums;
import io.feedrank.ranker.features.Parsed;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.MlpScorer;
import io.feedrank.ranker.scoring.ModelException;
import io.feedrank.ranker.scoring.Scorer;
import io.feedrank.ranker.scoring.TwoTowerScorer;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Turns a registry record into a servable model, or refuses it with a reason: the feature schema
 * must be buildable, every artifact must be in the artifact store and match its SHA-256, all of
 * them together within {@code model.artifact.max.bytes} (no more is read), the ONNX graph must have
 * the inputs and outputs of {@link ModelInputs}, and it must score two default rows to
 * probabilities. Only then may it replace the serving model.
 */
public final class ModelLoader {
  /** Why a model was refused, as a metric tag. */
  public enum Refusal {
    INCOMPATIBLE,
    MISSING,
    CHECKSUM,
    INVALID,
    /**
     * Artifacts over {@code model.artifact.max.bytes} together (a two-tower's two towers added):
     * refused by an artifact's size before it is read, or once more than the limit was read from
     * one whose size understated it.
     */
    TOO_LARGE,
    /**
     * Loading failed in a way none of the other reasons names (a bug, a native library that cannot
     * load): {@link ModelDirector} logs it with its stack trace and refuses the version as it does
     * the others, so the registry listener goes on.
     */
    ERROR
  }

  /** A refused model. */
  public static final class RefusedException extends RuntimeException {
    private final Refusal reason;

    RefusedException(Refusal reason, String message, Throwable cause) {
      super(message, cause, false, false);
      this.reason = reason;
    }

    public Refusal reason() {
      return reason;
    }

    /**
     * Whether the artifact store failed to give the artifact (an I/O error): the same record may
     * load later, unlike one whose artifact is absent from the record, corrupt or incompatible.
     */
    public boolean transientFailure() {
      return reason == Refusal.MISSING && getCause() instanceof IOException;
    }
  }

  private final ArtifactStore store;
  private final int intraOpThreads;
  private final int itemVectorCacheSize;
  private final Duration itemVectorMaxAge;
  private final Duration itemFeaturesFresh;
  private final int maxArtifactBytes;

  /**
   * @param itemFeaturesFresh the feature cache's fresh TTL for items: a two-tower item vector
   *     computed from features read less than this long ago is served without reading them again
   * @param maxArtifactBytes the most a model's artifacts may hold together (at most {@code
   *     Integer.MAX_VALUE - 8}, an array's): a model with more is refused ({@link
   *     Refusal#TOO_LARGE}), and never more than this and a few bytes is read for it, since what is
   *     read is held on the heap whole
   */
  public ModelLoader(
      ArtifactStore store,
      int intraOpThreads,
      int itemVectorCacheSize,
      Duration itemVectorMaxAge,
      Duration itemFeaturesFresh,
      long maxArtifactBytes) {
    if (maxArtifactBytes < 0 || maxArtifactBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "maxArtifactBytes must be within [0, "
              + (Integer.MAX_VALUE - 8)
              + "]: "
              + maxArtifactBytes);
    }
    this.store = store;
    this.maxArtifactBytes = (int) maxArtifactBytes;
    this.intraOpThreads = intraOpThreads;
    this.itemVectorCacheSize = itemVectorCacheSize;
    this.itemVectorMaxAge = itemVectorMaxAge;
    this.itemFeaturesFresh = itemFeaturesFresh;
  }

  public ServingModel load(ModelVersion mv) {
    String id = mv.getModelName() + "@" + mv.getVersion();
    if (!FeatureSchema.canBuild(mv.getFeatureSchemaVersion())) {
      throw new RefusedException(
          Refusal.INCOMPATIBLE,
          id
              + " needs feature schema version "
              + mv.getFeatureSchemaVersion()
              + "; this ranker builds version "
              + FeatureSchema.VERSION,
          null);
    }
    Scorer scorer;
    try {
      if ("two_tower".equals(mv.getArchitecture())) {
        Map<String, String> a = mv.getArtifacts();
        byte[] user = artifact(id, a, ModelInputs.ROLE_USER_TOWER, 0);
        byte[] item = artifact(id, a, ModelInputs.ROLE_ITEM_TOWER, user.length);
        scorer =
            TwoTowerScorer.load(
                user,
                item,
                intraOpThreads,
                itemVectorCacheSize,
                itemVectorMaxAge,
                itemFeaturesFresh);
      } else {
        byte[] bytes = read(id, mv.getArtifactUri(), mv.getArtifactSha256(), 0);
        scorer = MlpScorer.load(bytes, intraOpThreads);
      }
    } catch (ModelException e) {
      throw new RefusedException(Refusal.INVALID, id + ": " + e.getMessage(), e);
    }
    try {
      smokeTest(scorer);
    } catch (RuntimeException e) {
      scorer.close();
      throw new RefusedException(Refusal.INVALID, id + " does not score: " + e.getMessage(), e);
    }
    return new ServingModel(
        mv.getModelName(),
        mv.getVersion(),
        mv.getArchitecture(),
        mv.getFeatureSchemaVersion(),
        Instant.now(),
        scorer);
  }

  /**
   * Scores two candidates with default features: the output must be two probabilities. Two, so that
   * a model taking the user's side as one row ({@code feedrank.per_request_inputs}) is fed as
   * requests feed it, and one whose graph cannot is refused here rather than failing every request.
   */
  private static void smokeTest(Scorer scorer) {
    ServingFeatures f = new ServingFeatures(0, Map.of(), 0L, Device.UNKNOWN);
    float[] s =
        scorer.score(
            Batch.of(
                f,
                new long[] {0, 1},
                new Parsed.Item[] {Parsed.Item.UNKNOWN, Parsed.Item.UNKNOWN}));
    if (s.length != 2 || !(s[0] >= 0f && s[0] <= 1f) || !(s[1] >= 0f && s[1] <= 1f)) {
      throw new ModelException(
          "expected two probabilities for two rows, got " + java.util.Arrays.toString(s));
    }
  }

  /** A role's artifact, read with what is left of the limit once {@code heldBytes} are read. */
  private byte[] artifact(String id, Map<String, String> artifacts, String role, int heldBytes) {
    String uri = artifacts.get(role);
    if (uri == null) {
      throw new RefusedException(Refusal.MISSING, id + " has no '" + role + "' artifact", null);
    }
    return read(id, uri, artifacts.get(role + ModelInputs.SHA256_SUFFIX), heldBytes);
  }

  /**
   * An artifact's bytes, checked against its SHA-256, refused when it would take the model's
   * artifacts over {@code model.artifact.max.bytes} with the {@code heldBytes} of those read before
   * it.
   */
  private byte[] read(String id, String uri, String sha256, int heldBytes) {
    byte[] bytes;
    try {
      bytes = store.get(URI.create(uri), maxArtifactBytes - heldBytes);
    } catch (ArtifactTooLargeException e) {
      throw new RefusedException(Refusal.TOO_LARGE, tooLarge(id, uri, e, heldBytes), e);
    } catch (IOException | IllegalArgumentException e) {
      throw new RefusedException(
          Refusal.MISSING, id + ": cannot read artifact " + uri + ": " + e.getMessage(), e);
    }
    String actual = Checksums.sha256(bytes);
    if (sha256 == null || !sha256.equalsIgnoreCase(actual)) {
      throw new RefusedException(
          Refusal.CHECKSUM,
          id + ": artifact " + uri + " has SHA-256 " + actual + ", registry says " + sha256,
          null);
    }
    return bytes;
  }

  private String tooLarge(String id, String uri, ArtifactTooLargeException e, int heldBytes) {
    String size =
        e.refusedBySize()
            ? " is " + e.sizeBytes() + " bytes"
            : " holds more than " + e.maxBytes() + " bytes (its size said " + e.sizeBytes() + ")";
    String over =
        heldBytes == 0
            ? ", over"
            : ", which with the " + heldBytes + " bytes of the model's other artifacts is over";
    return id
        + ": artifact "
        + uri
        + size
        + over
        + " model.artifact.max.bytes ("
        + maxArtifactBytes
        + "), the most a model's artifacts may hold together";
  }
}
