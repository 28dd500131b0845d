package io.feedrank.ranker.scoring;

/** Scores a request's candidates: one click probability per row of the batch. */
public interface Scorer extends AutoCloseable {

  /**
   * @throws ModelException when the model cannot score (the caller falls back)
   */
  float[] score(Batch batch);

  @Override
  void close();
}
