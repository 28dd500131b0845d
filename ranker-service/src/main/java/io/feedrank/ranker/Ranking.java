package io.feedrank.ranker;

import java.util.Arrays;

/** Orders candidates by score, best first; equal scores keep the request's order. */
final class Ranking {

  /** Indices of the {@code topK} best scores, best first. */
  static int[] order(float[] scores, int topK) {
    Integer[] idx = new Integer[scores.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(
        idx,
        (a, b) -> {
          int c = Float.compare(scores[b], scores[a]);
          return c != 0 ? c : Integer.compare(a, b);
        });
    int k = Math.min(topK, scores.length);
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = idx[i];
    }
    return out;
  }

  private Ranking() {}
}
