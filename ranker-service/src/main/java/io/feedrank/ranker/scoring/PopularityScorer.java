package io.feedrank.ranker.scoring;

import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.Vectorizer;

/**
 * The fallback when no model can score: items by recent popularity, read from the batch's own item
 * features. Score = {@code p / (1 + p)} with {@code p = ctr_7d · ln(1 + impressions_1d)}: a
 * smoothed click rate weighted by how much the item was shown lately, in (0, 1).
 */
public final class PopularityScorer implements Scorer {
  private static final int IMPRESSIONS_1D = FeatureSchema.ITEM.indexOf("i_impressions_1d");
  private static final int CTR_7D = FeatureSchema.ITEM.indexOf("i_ctr_7d");

  @Override
  public float[] score(Batch batch) {
    float[] row = new float[Vectorizer.ITEM_WIDTH];
    float[] scores = new float[batch.rows()];
    for (int i = 0; i < scores.length; i++) {
      batch.itemVector(i, row);
      // the vector holds ln(1 + impressions) already (Vectorizer.Transform.SIGNED_LOG1P)
      double p = row[CTR_7D] * row[IMPRESSIONS_1D];
      scores[i] = (float) (p / (1 + p));
    }
    return scores;
  }

  @Override
  public void close() {}
}
