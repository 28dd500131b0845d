package io.feedrank.ranker.scoring;

import io.feedrank.features.vector.ModelInputs;
import java.util.Set;

/**
 * A model that scores rows directly (deep MLP, logistic): one batched ONNX Runtime call per
 * request.
 */
public final class MlpScorer implements Scorer {
  private final OnnxModel model;

  public MlpScorer(OnnxModel model) {
    this.model = model;
  }

  /** Loads a full model (output {@code score}). */
  public static MlpScorer load(byte[] onnx, int intraOpThreads) {
    return new MlpScorer(OnnxModel.load(onnx, ModelInputs.SCORE, intraOpThreads));
  }

  @Override
  public float[] score(Batch batch) {
    float[] s = model.run(batch, batch.rows());
    if (s.length != batch.rows()) {
      throw new ModelException(
          "model returned " + s.length + " scores for " + batch.rows() + " rows");
    }
    return s;
  }

  @Override
  public Set<String> perRequestInputs() {
    return model.perRequest();
  }

  @Override
  public void close() {
    model.close();
  }
}
