package io.feedrank.trainer.registry;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.ArtifactTooLargeException;
import io.feedrank.models.Checksums;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.export.ExportVerification;
import io.feedrank.trainer.export.OnnxScorer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Scores the production model on a candidate's holdout, so both are compared on the same rows: its
 * artifact is fetched and checked against its sha256, its feature schema must be the one this
 * trainer builds, and the holdout is vectorized with the production model's own embedding bucket
 * counts. A production model of another feature schema is reported as unscorable (the candidate is
 * then judged against the logistic baseline: a schema change is made on purpose, and the two models
 * cannot take the same rows). Anything else that prevents the comparison (the artifact not in the
 * store, over {@code model.artifact.max.bytes}, failing its checksum, or refused by ONNX Runtime)
 * makes the candidate incomparable, so it is rejected: a trainer pointed at the wrong artifact
 * store must not replace a production model it never scored. Only a read of the artifact that fails
 * otherwise (an I/O error: a volume away for a moment) is thrown, so that the run fails and its
 * command is tried again rather than rejected for good.
 *
 * <p>Only the held-out examples production did not learn from count: those outside {@code
 * [training_from, holdout_from)} of its record (the split keeps a millisecond on one side, {@link
 * io.feedrank.trainer.data.TemporalSplit}). A record without {@code holdout_from} (written before
 * it was) is compared on the whole holdout, as it was. A model scored on examples it learned from
 * scores above what it would serve, and a fair candidate would lose to it. That happens when a
 * range is retrained over an older one ({@code --from/--to}): both models are then compared on the
 * rest of the holdout, or, when fewer than {@value #MIN_COMPARED} examples (or one class only) are
 * left, not at all ({@link Promotion.ProductionScore#incomparable}).
 */
public final class ProductionEvaluator {
  private final ArtifactStore artifacts;

  private final int minClicks;

  private final int maxArtifactBytes;

  public ProductionEvaluator(ArtifactStore artifacts) {
    this(artifacts, DEFAULT_MIN_CLICKS, DEFAULT_MAX_ARTIFACT_BYTES);
  }

  /**
   * @param maxArtifactBytes the most bytes of production's artifact read ({@code
   *     model.artifact.max.bytes}, {@link #DEFAULT_MAX_ARTIFACT_BYTES})
   * @param minClicks the fewest clicks, and examples without one, of the rows compared on: with
   *     fewer, AUC's standard error (about 0.13 with 5 clicks, 0.03 with 100, at an AUC of 0.72)
   *     dwarfs the gain that promotes, and production would change on noise
   */
  public ProductionEvaluator(ArtifactStore artifacts, int minClicks, int maxArtifactBytes) {
    this.artifacts = artifacts;
    this.minClicks = minClicks;
    this.maxArtifactBytes = maxArtifactBytes;
  }

  /** {@code promote.min.clicks}' default. */
  public static final int DEFAULT_MIN_CLICKS = 100;

  /**
   * {@code model.artifact.max.bytes}' default, the ranker's default for the same key (a ranker on
   * its defaults refuses a larger model). A larger artifact is not read, as a registry record may
   * name any file in the store, and makes the candidate incomparable: reading it again would not
   * change that. A trainer whose rankers load larger models is given their bound.
   */
  public static final int DEFAULT_MAX_ARTIFACT_BYTES = 256 << 20;

  /** The fewest held-out examples production did not learn from that it is compared on. */
  public static final int MIN_COMPARED = ExportVerification.MIN_ROWS;

  /**
   * Production's AUC on the holdout and, when it learned from some of it, both models' AUC on the
   * rest ({@code candidateScores}: the candidate's, row for row with {@code holdout}).
   */
  public Promotion.ProductionScore score(
      ModelVersion production, List<Example> holdout, float[] candidateScores) {
    if (candidateScores.length != holdout.size()) {
      throw new IllegalArgumentException(
          candidateScores.length + " candidate scores for " + holdout.size() + " rows");
    }
    try {
      if (production.getFeatureSchemaVersion() != FeatureSchema.VERSION) {
        return Promotion.ProductionScore.unscorable(
            production,
            "feature schema "
                + production.getFeatureSchemaVersion()
                + " is not "
                + FeatureSchema.VERSION);
      }
      byte[] model;
      try {
        model = artifacts.get(java.net.URI.create(production.getArtifactUri()), maxArtifactBytes);
      } catch (java.nio.file.NoSuchFileException e) {
        return Promotion.ProductionScore.incomparable(
            production, "its artifact " + production.getArtifactUri() + " is not in the store");
      } catch (ArtifactTooLargeException e) {
        return Promotion.ProductionScore.incomparable(
            production, "its " + e.getMessage() + " (model.artifact.max.bytes)");
      }
      String sha = Checksums.sha256(model);
      if (!sha.equalsIgnoreCase(production.getArtifactSha256())) {
        return Promotion.ProductionScore.incomparable(
            production, "its artifact " + production.getArtifactUri() + " fails its sha256 check");
      }
      // what production learned from: [training_from, holdout_from); nothing known without
      // holdout_from (a record written before it was)
      Instant start = production.getTrainingFrom();
      Instant end = production.getHoldoutFrom();
      long from = start == null ? Long.MIN_VALUE : start.toEpochMilli();
      long to = end == null ? Long.MIN_VALUE : end.toEpochMilli();
      List<Example> rows = new ArrayList<>(holdout.size());
      float[] candidate = new float[holdout.size()];
      long clicks = 0;
      for (int i = 0; i < holdout.size(); i++) {
        Example e = holdout.get(i);
        if (e.eventTimeMillis() < from || e.eventTimeMillis() >= to) {
          candidate[rows.size()] = candidateScores[i];
          rows.add(e);
          clicks += e.click() ? 1 : 0;
        }
      }
      boolean whole = rows.size() == holdout.size();
      String learned = null;
      if (!whole) {
        learned =
            (holdout.size() - rows.size())
                + " of the "
                + holdout.size()
                + " held-out examples are in the data production "
                + production.getVersion()
                + " learned from ["
                + start
                + ", "
                + end
                + ")";
        // a class missing or nearly so is refused below, with the whole holdout's rule
        if (rows.size() < MIN_COMPARED) {
          return Promotion.ProductionScore.incomparable(
              production,
              learned
                  + "; the other "
                  + rows.size()
                  + " ("
                  + clicks
                  + " clicks) are too few to compare on (at least "
                  + MIN_COMPARED
                  + ")");
        }
      }
      if (Math.min(clicks, rows.size() - clicks) < minClicks) {
        return Promotion.ProductionScore.incomparable(
            production,
            (learned == null ? "" : learned + "; ")
                + "the "
                + rows.size()
                + " held-out examples compared on have "
                + clicks
                + " clicks, too few to tell two models apart (at least "
                + minClicks
                + " with a click and "
                + minClicks
                + " without, promote.min.clicks)");
      }
      int[] buckets = buckets(model); // only for a comparison: it opens a session
      Dataset d = Dataset.of(rows, buckets[0], buckets[1]);
      double auc = Metrics.auc(OnnxScorer.scores(model, d), d.label);
      return whole
          ? Promotion.ProductionScore.scored(production, auc)
          : Promotion.ProductionScore.scoredOnUnseen(
              production,
              auc,
              Metrics.auc(Arrays.copyOf(candidate, rows.size()), d.label),
              rows.size(),
              learned);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot read production " + production.getVersion() + "'s artifact", e);
    } catch (Exception e) {
      return Promotion.ProductionScore.incomparable(
          production, "it could not be scored on the holdout (" + e + ")");
    }
  }

  private static int[] buckets(byte[] model) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = OrtEnvironment.getEnvironment().createSession(model, o)) {
      Map<String, String> meta = s.getMetadata().getCustomMetadata();
      return new int[] {
        bucket(meta, ModelInputs.META_USER_BUCKETS), bucket(meta, ModelInputs.META_ITEM_BUCKETS)
      };
    }
  }

  /**
   * A bucket count the model must name: guessed (1, every id in bucket 0) the production model
   * would score far below what it serves, and any candidate would beat it.
   */
  private static int bucket(Map<String, String> meta, String key) {
    String v = meta.get(key);
    if (v == null) {
      throw new IllegalStateException("the model's metadata has no " + key);
    }
    return Integer.parseInt(v);
  }
}
