package io.feedrank.ranker.scoring;

import io.feedrank.features.vector.Popularity;
import io.feedrank.features.vector.Vectorizer;

/**
 * The fallback when no model can score: items by recent popularity ({@link Popularity}, the
 * trainer's popularity baseline too), read from the batch's own item features.
 */
public final class PopularityScorer implements Scorer {
  @Override
  public float[] score(Batch batch) {
    float[] row = new float[Vectorizer.ITEM_WIDTH];
    float[] scores = new float[batch.rows()];
    for (int i = 0; i < scores.length; i++) {
      batch.itemVector(i, row);
      scores[i] = Popularity.score(row, 0);
    }
    return scores;
  }

  @Override
  public void close() {}
}
