package io.feedrank.trainer.train;

import io.feedrank.features.vector.Popularity;
import io.feedrank.trainer.data.Dataset;

/** Baselines that need no training beyond what the features already count. */
public final class Baselines {
  private Baselines() {}

  /**
   * Popularity: every row scored by its item's features as they were before the event, by the
   * ranker's own fallback formula ({@link Popularity}): its metrics are what users get when the
   * ranker has no model. (It ranked by the 7-day CTR alone, which orders items otherwise: one shown
   * once at a smoothed 0.2 above one shown a thousand times at 0.15.)
   */
  public static float[] popularity(Dataset d) {
    float[] s = new float[d.size];
    for (int r = 0; r < d.size; r++) {
      s[r] = Popularity.score(d.item, r * Dataset.ITEM);
    }
    return s;
  }
}
