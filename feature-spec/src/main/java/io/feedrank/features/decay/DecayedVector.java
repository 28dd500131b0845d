package io.feedrank.features.decay;

import java.util.Arrays;

/**
 * Several {@link DecayedCounter}s that are always updated by the same events, sharing one reference
 * time: slot {@code i} decays with half-life {@code halfLivesMillis[i]}. Adding an event decays
 * every slot to the event time (or the event to the reference time, for a late event) and adds the
 * slot's amount, so the values equal the closed-form sums whatever the arrival order. Mutable; not
 * thread-safe.
 */
public final class DecayedVector {
  /**
   * Half-lives and their distinct values, shared by every vector with the same half-lives (a state
   * class has one set): a ranker holds one vector per cached item, and reading one should not miss
   * the cache on a copy of its half-lives.
   */
  private static final class Layout {
    final long[] halfLives;
    final long[] distinct;
    final int[] distinctIndex;

    Layout(long[] halfLives) {
      this.halfLives = halfLives.clone();
      this.distinctIndex = new int[halfLives.length];
      long[] seen = new long[halfLives.length];
      int m = 0;
      for (int i = 0; i < halfLives.length; i++) {
        int k = 0;
        while (k < m && seen[k] != halfLives[i]) {
          k++;
        }
        if (k == m) {
          seen[m++] = halfLives[i];
        }
        distinctIndex[i] = k;
      }
      this.distinct = Arrays.copyOf(seen, m);
    }
  }

  private static final int MAX_SHARED_LAYOUTS = 16;
  private static volatile Layout[] shared = new Layout[0];

  private static Layout layout(long[] halfLives) {
    for (Layout l : shared) {
      if (Arrays.equals(l.halfLives, halfLives)) {
        return l;
      }
    }
    synchronized (DecayedVector.class) {
      for (Layout l : shared) {
        if (Arrays.equals(l.halfLives, halfLives)) {
          return l;
        }
      }
      Layout l = new Layout(halfLives);
      if (shared.length < MAX_SHARED_LAYOUTS) {
        Layout[] more = Arrays.copyOf(shared, shared.length + 1);
        more[shared.length] = l;
        shared = more;
      }
      return l;
    }
  }

  private final Layout layout;
  private final long[] halfLivesMillis;
  private final double[] values;
  private long referenceMillis = Long.MIN_VALUE;

  public DecayedVector(long[] halfLivesMillis) {
    this.layout = layout(halfLivesMillis);
    this.halfLivesMillis = layout.halfLives;
    this.values = new double[halfLivesMillis.length];
  }

  /** A vector restored from its values at {@code referenceMillis}. */
  public DecayedVector(long[] halfLivesMillis, double[] values, long referenceMillis) {
    if (values.length != halfLivesMillis.length) {
      throw new IllegalArgumentException(
          "values has " + values.length + " slots, half-lives " + halfLivesMillis.length);
    }
    this.layout = layout(halfLivesMillis);
    this.halfLivesMillis = layout.halfLives;
    this.values = values.clone();
    this.referenceMillis = referenceMillis;
  }

  public int size() {
    return values.length;
  }

  public boolean isEmpty() {
    return referenceMillis == Long.MIN_VALUE;
  }

  /**
   * Reads the vector and the ends of its values, and returns them folded into a long of no meaning:
   * a caller about to read many vectors touches them all first, so that their cache misses overlap
   * instead of following one another (see {@code ServingFeatures#touch}).
   */
  public long touch() {
    return referenceMillis
        ^ Double.doubleToRawLongBits(values[0])
        ^ Double.doubleToRawLongBits(values[values.length - 1]);
  }

  /** The latest event time added; {@link Long#MIN_VALUE} when empty. */
  public long referenceMillis() {
    return referenceMillis;
  }

  /** Adds {@code amounts[i]} to slot i at {@code eventMillis}. */
  public void add(double[] amounts, long eventMillis) {
    if (amounts.length != values.length) {
      throw new IllegalArgumentException(
          "amounts has " + amounts.length + " slots, expected " + values.length);
    }
    if (isEmpty()) {
      System.arraycopy(amounts, 0, values, 0, values.length);
      referenceMillis = eventMillis;
    } else if (eventMillis >= referenceMillis) {
      long gap = eventMillis - referenceMillis;
      for (int i = 0; i < values.length; i++) {
        values[i] = values[i] * DecayedCounter.decayFactor(gap, halfLivesMillis[i]) + amounts[i];
      }
      referenceMillis = eventMillis;
    } else {
      long gap = referenceMillis - eventMillis;
      for (int i = 0; i < values.length; i++) {
        values[i] += amounts[i] * DecayedCounter.decayFactor(gap, halfLivesMillis[i]);
      }
    }
  }

  /**
   * Slot {@code i} at {@code atMillis}; reading before the reference time reads at the reference
   * time (the vector cannot forget events it already holds).
   */
  public double valueAt(int i, long atMillis) {
    if (isEmpty()) {
      return 0.0;
    }
    return values[i]
        * DecayedCounter.decayFactor(Math.max(0, atMillis - referenceMillis), halfLivesMillis[i]);
  }

  /**
   * Every slot at {@code atMillis}, each equal to {@link #valueAt valueAt(i, atMillis)} bit for
   * bit. The decay factor is computed once per distinct half-life (a vector has few) instead of
   * once per slot: the ranker reads every slot of every candidate at request time.
   */
  public double[] valuesAt(long atMillis) {
    return valuesAt(atMillis, new double[values.length]);
  }

  /**
   * {@link #valuesAt(long)} written into {@code out} (at least {@link #size()} long), which is
   * returned; allocates nothing.
   */
  public double[] valuesAt(long atMillis, double[] out) {
    int n = values.length;
    if (isEmpty()) {
      Arrays.fill(out, 0, n, 0.0);
      return out;
    }
    long gap = Math.max(0, atMillis - referenceMillis);
    long[] distinct = layout.distinct;
    int[] index = layout.distinctIndex;
    for (int k = 0; k < distinct.length; k++) {
      double factor = DecayedCounter.decayFactor(gap, distinct[k]);
      for (int i = 0; i < n; i++) {
        if (index[i] == k) {
          out[i] = values[i] * factor;
        }
      }
    }
    return out;
  }

  /** Slot {@code i} at the reference time (what is stored). */
  public double rawValue(int i) {
    return values[i];
  }

  public double[] rawValues() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DecayedVector v
        && referenceMillis == v.referenceMillis
        && Arrays.equals(values, v.values)
        && Arrays.equals(halfLivesMillis, v.halfLivesMillis);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values) * 31 + Long.hashCode(referenceMillis);
  }

  @Override
  public String toString() {
    return "DecayedVector" + Arrays.toString(values) + "@" + referenceMillis;
  }
}
