package io.feedrank.trainer.registry;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.Checksums;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.export.OnnxScorer;
import java.util.List;
import java.util.Map;

/**
 * Scores the production model on a candidate's holdout, so both are compared on the same rows: its
 * artifact is fetched and checked against its sha256, its feature schema must be the one this
 * trainer builds, and the holdout is vectorized with the production model's own embedding bucket
 * counts. Anything that prevents it is reported as unscorable with the reason, never thrown.
 */
public final class ProductionEvaluator {
  private final ArtifactStore artifacts;

  public ProductionEvaluator(ArtifactStore artifacts) {
    this.artifacts = artifacts;
  }

  public Promotion.ProductionScore score(ModelVersion production, List<Example> holdout) {
    try {
      if (production.getFeatureSchemaVersion() != FeatureSchema.VERSION) {
        return Promotion.ProductionScore.unscorable(
            production,
            "feature schema "
                + production.getFeatureSchemaVersion()
                + " is not "
                + FeatureSchema.VERSION);
      }
      byte[] model = artifacts.get(java.net.URI.create(production.getArtifactUri()));
      String sha = Checksums.sha256(model);
      if (!sha.equalsIgnoreCase(production.getArtifactSha256())) {
        return Promotion.ProductionScore.unscorable(production, "artifact checksum mismatch");
      }
      int[] buckets = buckets(model);
      Dataset d = Dataset.of(holdout, buckets[0], buckets[1]);
      return Promotion.ProductionScore.scored(
          production, Metrics.auc(OnnxScorer.scores(model, d), d.label));
    } catch (Exception e) {
      return Promotion.ProductionScore.unscorable(production, e.toString());
    }
  }

  private static int[] buckets(byte[] model) throws OrtException {
    try (OrtSession s =
        OrtEnvironment.getEnvironment().createSession(model, new OrtSession.SessionOptions())) {
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
