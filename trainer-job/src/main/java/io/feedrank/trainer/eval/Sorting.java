package io.feedrank.trainer.eval;

/**
 * Index sorts without boxing: a stable merge sort of row indexes by score (and first by user, for
 * per-user rankings), so millions of rows sort in O(n log n) with two int arrays.
 */
final class Sorting {
  private Sorting() {}

  /**
   * Row indexes ordered by {@code userIds} ascending (when given) then by score, descending if
   * {@code descending}; equal keys keep row order.
   */
  static int[] byScore(float[] scores, long[] userIds, boolean descending) {
    int n = scores.length;
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    int[] tmp = new int[n];
    for (int width = 1; width < n; width *= 2) {
      for (int lo = 0; lo < n - width; lo += 2 * width) {
        merge(a, tmp, lo, lo + width, Math.min(lo + 2 * width, n), scores, userIds, descending);
      }
    }
    return a;
  }

  private static void merge(
      int[] a, int[] tmp, int lo, int mid, int hi, float[] s, long[] u, boolean desc) {
    int i = lo;
    int j = mid;
    int k = lo;
    while (i < mid && j < hi) {
      tmp[k++] = before(a[j], a[i], s, u, desc) ? a[j++] : a[i++];
    }
    while (i < mid) {
      tmp[k++] = a[i++];
    }
    while (j < hi) {
      tmp[k++] = a[j++];
    }
    System.arraycopy(tmp, lo, a, lo, hi - lo);
  }

  /** Whether row x strictly precedes row y. */
  private static boolean before(int x, int y, float[] s, long[] u, boolean desc) {
    if (u != null && u[x] != u[y]) {
      return u[x] < u[y];
    }
    int c = Float.compare(s[x], s[y]);
    return desc ? c > 0 : c < 0;
  }
}
