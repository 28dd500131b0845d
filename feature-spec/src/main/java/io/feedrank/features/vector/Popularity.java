package io.feedrank.features.vector;

import io.feedrank.features.FeatureSchema;

/**
 * Recent popularity, from an item's vectorized features: the ranker's fallback when no model can
 * score, and the trainer's popularity baseline, so that the baseline's metrics in every run measure
 * what users get on a fallback. Score = {@code p / (1 + p)} with {@code p = ctr_7d · ln(1 +
 * impressions_1d)}: a smoothed click rate weighted by how much the item was shown lately, in [0,
 * 1).
 */
public final class Popularity {
  private static final int IMPRESSIONS_1D = FeatureSchema.ITEM.indexOf("i_impressions_1d");
  private static final int CTR_7D = FeatureSchema.ITEM.indexOf("i_ctr_7d");

  private Popularity() {}

  /**
   * The score of the item whose {@link Vectorizer#item} vector starts at {@code offset} of {@code
   * items}.
   */
  public static float score(float[] items, int offset) {
    // the vector holds ln(1 + impressions) already (Vectorizer.Transform.SIGNED_LOG1P) and the
    // smoothed rate unchanged
    double p = items[offset + CTR_7D] * items[offset + IMPRESSIONS_1D];
    return (float) (p / (1 + p));
  }
}
