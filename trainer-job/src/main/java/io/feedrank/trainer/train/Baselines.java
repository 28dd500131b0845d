package io.feedrank.trainer.train;

import io.feedrank.features.FeatureSchema;
import io.feedrank.trainer.data.Dataset;

/** Baselines that need no training beyond what the features already count. */
public final class Baselines {
  /** The item feature the popularity baseline ranks by: the item's smoothed 7-day CTR. */
  public static final String POPULARITY_FEATURE = "i_ctr_7d";

  private static final int POPULARITY_COLUMN = FeatureSchema.ITEM.indexOf(POPULARITY_FEATURE);

  private Baselines() {}

  /**
   * Popularity: every row scored by its item's smoothed CTR as the features had it before the event
   * (already a probability; the vectorizer passes rates through unchanged). What the ranker falls
   * back to without a model.
   */
  public static float[] popularity(Dataset d) {
    if (POPULARITY_COLUMN < 0) {
      throw new IllegalStateException("feature schema has no " + POPULARITY_FEATURE);
    }
    float[] s = new float[d.size];
    for (int r = 0; r < d.size; r++) {
      s[r] = d.item[r * Dataset.ITEM + POPULARITY_COLUMN];
    }
    return s;
  }
}
