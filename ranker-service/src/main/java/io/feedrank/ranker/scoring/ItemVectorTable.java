package io.feedrank.ranker.scoring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The item-tower vectors of one two-tower model, in flat arrays: a 4-way set-associative table
 * keyed by item id, every vector in one {@code float[]}. A 1,000-candidate request looks up every
 * candidate here; through a {@code Cache<Long, …>} each lookup was a chain of dependent loads (hash
 * bucket, node, boxed key, entry, features, vector: about 60% of the request thread's time in a
 * profile), here it is the set's meta line and the vector's row, which do not depend on each other
 * beyond the key compare, so the loads of many candidates overlap.
 *
 * <p>Each slot holds the item id, a deadline (nanos) before which the vector can be served without
 * looking at the item's features, the fingerprint of the features it was computed from, and when it
 * was computed. Readers never lock: each slot has a sequence number (odd while it is written), read
 * before and after the slot, and a read that saw it move counts as a miss. A writer that finds the
 * slot being written by another thread gives up (the next request computes the vector again). A
 * full set replaces its slot with the earliest deadline.
 */
final class ItemVectorTable {
  static final int WAYS = 4;
  private static final int STRIDE = 4; // meta longs per slot: sequence, key, deadline, fingerprint
  private static final long EMPTY = Long.MIN_VALUE;
  private static final VarHandle META = MethodHandles.arrayElementVarHandle(long[].class);

  private final int dim;
  private final int setMask;
  private final long[] meta;
  private final long[] computed;
  private final float[] vectors;

  /**
   * @param maxItems at most this many vectors are held (the slots are the largest power of two of
   *     sets of {@link #WAYS} not above it, at least one set)
   * @param dim the vector width
   */
  ItemVectorTable(int maxItems, int dim) {
    if (dim <= 0) {
      throw new IllegalArgumentException("dimension " + dim);
    }
    int sets = Integer.highestOneBit(Math.max(1, maxItems / WAYS));
    if ((long) sets * WAYS * dim > Integer.MAX_VALUE - 8) {
      sets = Integer.highestOneBit((Integer.MAX_VALUE - 8) / (WAYS * dim));
    }
    int slots = sets * WAYS;
    this.dim = dim;
    this.setMask = sets - 1;
    this.meta = new long[slots * STRIDE];
    this.computed = new long[slots];
    this.vectors = new float[slots * dim];
    for (int s = 0; s < slots; s++) {
      meta[s * STRIDE + 1] = EMPTY;
    }
  }

  int dim() {
    return dim;
  }

  int slots() {
    return computed.length;
  }

  /**
   * Copies the vector of {@code itemId} into {@code out[off, off + dim)} when one is held and its
   * deadline is after {@code now}.
   */
  boolean copyIfValid(long itemId, long now, float[] out, int off) {
    int s = slotOf(itemId);
    if (s < 0) {
      return false;
    }
    int m = s * STRIDE;
    long seq = (long) META.getAcquire(meta, m);
    if ((seq & 1) != 0 || meta[m + 1] != itemId || now - meta[m + 2] >= 0) {
      return false;
    }
    System.arraycopy(vectors, s * dim, out, off, dim);
    VarHandle.loadLoadFence();
    return (long) META.getOpaque(meta, m) == seq;
  }

  /**
   * For an item whose features were read again: when the held vector was computed from features
   * with this {@code fingerprint} less than {@code maxAge} nanos before {@code now}, copies it into
   * {@code out[off, off + dim)} and moves its deadline to {@code featuresDeadline} (at most the
   * vector's max age); false otherwise (the vector must be computed again).
   */
  boolean revalidate(
      long itemId,
      long fingerprint,
      long now,
      long maxAge,
      long featuresDeadline,
      float[] out,
      int off) {
    int s = slotOf(itemId);
    if (s < 0) {
      return false;
    }
    int m = s * STRIDE;
    long seq = (long) META.getAcquire(meta, m);
    long expires = computed[s] + maxAge;
    if ((seq & 1) != 0
        || meta[m + 1] != itemId
        || meta[m + 3] != fingerprint
        || now - expires >= 0
        || !META.compareAndSet(meta, m, seq, seq + 1)) {
      return false;
    }
    // the compare-and-set saw the same even sequence as the reads above: nothing was written
    System.arraycopy(vectors, s * dim, out, off, dim);
    meta[m + 2] = featuresDeadline - expires < 0 ? featuresDeadline : expires;
    META.setRelease(meta, m, seq + 2);
    return true;
  }

  /**
   * The slot holding {@code itemId}, or −1: a hint read without the sequence number, which the
   * caller then reads and checks (the slot may be rewritten at any time).
   */
  private int slotOf(long itemId) {
    int first = set(itemId) * WAYS;
    for (int s = first; s < first + WAYS; s++) {
      if (meta[s * STRIDE + 1] == itemId) {
        return s;
      }
    }
    return -1;
  }

  /**
   * Holds {@code src[off, off + dim)} as the vector of {@code itemId}, computed at {@code
   * computedNanos} from features with {@code fingerprint}, servable as is until {@code deadline}.
   * Does nothing when another thread is writing the slot it would take.
   */
  void put(long itemId, long fingerprint, long computedNanos, long deadline, float[] src, int off) {
    int first = set(itemId) * WAYS;
    int victim = -1;
    for (int s = first; s < first + WAYS; s++) {
      long key = meta[s * STRIDE + 1];
      if (key == itemId) {
        victim = s;
        break;
      }
      if (victim < 0
          || key == EMPTY && meta[victim * STRIDE + 1] != EMPTY
          || key != EMPTY
              && meta[victim * STRIDE + 1] != EMPTY
              && meta[s * STRIDE + 2] - meta[victim * STRIDE + 2] < 0) {
        victim = s;
      }
    }
    int m = victim * STRIDE;
    long seq = (long) META.getAcquire(meta, m);
    if ((seq & 1) != 0 || !META.compareAndSet(meta, m, seq, seq + 1)) {
      return;
    }
    meta[m + 1] = itemId;
    meta[m + 2] = deadline;
    meta[m + 3] = fingerprint;
    computed[victim] = computedNanos;
    System.arraycopy(src, off, vectors, victim * dim, dim);
    META.setRelease(meta, m, seq + 2);
  }

  private int set(long itemId) {
    long z = itemId * 0x9e3779b97f4a7c15L;
    z ^= z >>> 32;
    return (int) z & setMask;
  }
}
