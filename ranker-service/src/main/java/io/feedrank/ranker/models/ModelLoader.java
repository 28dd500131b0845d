package io.feedrank.ranker.models;

import io.feedrank.events.Device;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.models.ArtifactStore;
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
 * must be buildable, every artifact must exist and match its SHA-256, the ONNX graph must have the
 * inputs and outputs of {@link ModelInputs}, and it must score two default rows to probabilities.
 * Only then may it replace the serving model.
 */
public final class ModelLoader {
  /** Why a model was refused, as a metric tag. */
  public enum Refusal {
    INCOMPATIBLE,
    MISSING,
    CHECKSUM,
    INVALID,
    /** An artifact over {@code model.artifact.max.bytes}: refused before it is read. */
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
  private final long maxArtifactBytes;

  /**
   * @param itemFeaturesFresh the feature cache's fresh TTL for items: a two-tower item vector
   *     computed from features read less than this long ago is served without reading them again
   * @param maxArtifactBytes the largest artifact read: a larger one is refused ({@link
   *     Refusal#TOO_LARGE}) before its bytes are, since they would be held on the heap whole
   */
  public ModelLoader(
      ArtifactStore store,
      int intraOpThreads,
      int itemVectorCacheSize,
      Duration itemVectorMaxAge,
      Duration itemFeaturesFresh,
      long maxArtifactBytes) {
    this.store = store;
    this.maxArtifactBytes = maxArtifactBytes;
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
        byte[] user = artifact(id, a, ModelInputs.ROLE_USER_TOWER);
        byte[] item = artifact(id, a, ModelInputs.ROLE_ITEM_TOWER);
        scorer =
            TwoTowerScorer.load(
                user,
                item,
                intraOpThreads,
                itemVectorCacheSize,
                itemVectorMaxAge,
                itemFeaturesFresh);
      } else {
        byte[] bytes = read(id, mv.getArtifactUri(), mv.getArtifactSha256());
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

  private byte[] artifact(String id, Map<String, String> artifacts, String role) {
    String uri = artifacts.get(role);
    if (uri == null) {
      throw new RefusedException(Refusal.MISSING, id + " has no '" + role + "' artifact", null);
    }
    return read(id, uri, artifacts.get(role + ModelInputs.SHA256_SUFFIX));
  }

  private byte[] read(String id, String uri, String sha256) {
    byte[] bytes;
    try {
      URI at = URI.create(uri);
      long size = store.size(at);
      if (size > maxArtifactBytes) {
        throw new RefusedException(
            Refusal.TOO_LARGE,
            id
                + ": artifact "
                + uri
                + " is "
                + size
                + " bytes, over model.artifact.max.bytes ("
                + maxArtifactBytes
                + ")",
            null);
      }
      bytes = store.get(at);
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
}
