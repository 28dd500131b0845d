package io.feedrank.ranker.scoring;

import java.util.Set;

/** Scores a request's candidates: one click probability per row of the batch. */
public interface Scorer extends AutoCloseable {

  /**
   * @throws ModelException when the model cannot score (the caller falls back)
   */
  float[] score(Batch batch);

  /**
   * Before the batch's features are looked up: {@link Batch#cover covers} the candidates this
   * scorer can score without their item features (what it already holds for them) and returns how
   * many rows are covered. By default none.
   */
  default int cover(Batch batch) {
    return 0;
  }

  /**
   * The model inputs this scorer feeds once per request rather than once per candidate ({@code
   * feedrank.per_request_inputs}); by default none.
   */
  default Set<String> perRequestInputs() {
    return Set.of();
  }

  @Override
  void close();
}
