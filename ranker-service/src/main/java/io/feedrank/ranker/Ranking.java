package io.feedrank.ranker;

import java.util.Arrays;

/** Orders candidates by score, best first; equal scores keep the request's order. */
final class Ranking {

  /**
   * Indices of the {@code topK} best scores, best first. Sorts primitive keys — the score's bits
   * made order-preserving and inverted, then the index — so no boxing, no comparator.
   */
  static int[] order(float[] scores, int topK) {
    long[] keys = new long[scores.length];
    for (int i = 0; i < scores.length; i++) {
      int bits = Float.floatToIntBits(scores[i] == 0f ? 0f : scores[i]); // -0 sorts as 0
      int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // signed int order = float order
      keys[i] = ((long) ~ordered << 32) | i; // descending score, then ascending index
    }
    Arrays.sort(keys);
    int k = Math.min(topK, scores.length);
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = (int) (keys[i] & 0xffffffffL);
    }
    return out;
  }

  private Ranking() {}
}
