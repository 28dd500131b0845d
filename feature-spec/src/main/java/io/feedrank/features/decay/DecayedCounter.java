package io.feedrank.features.decay;

/**
 * An exponentially decayed counter: for half-life {@code h}, {@code c(T) = Σ x_i · 2^(-(T -
 * t_i)/h)} over the events {@code (t_i, x_i)} seen so far, read at {@code T ≥} the latest event
 * time.
 *
 * <p>State is O(1): the value as of the latest event time seen (the reference time). An event older
 * than the reference time is decayed to it before it is added, so the counter does not depend on
 * arrival order, and two counters over disjoint events {@link #merge merge} into the counter over
 * all of them. Both make the value recomputable exactly from the topic. Immutable.
 *
 * @param value the counter's value at {@code referenceMillis}
 * @param referenceMillis the latest event time added (epoch millis); {@link Long#MIN_VALUE} when
 *     empty
 */
public record DecayedCounter(double value, long referenceMillis) {
  public static final DecayedCounter EMPTY = new DecayedCounter(0.0, Long.MIN_VALUE);

  /** {@code 2^(-Δ/h)} for a non-negative gap {@code Δ} in millis. */
  public static double decayFactor(long gapMillis, long halfLifeMillis) {
    if (gapMillis < 0) {
      throw new IllegalArgumentException("gapMillis must be >= 0, got " + gapMillis);
    }
    if (halfLifeMillis <= 0) {
      throw new IllegalArgumentException("halfLifeMillis must be > 0, got " + halfLifeMillis);
    }
    return Math.pow(2.0, -(double) gapMillis / halfLifeMillis);
  }

  public boolean isEmpty() {
    return referenceMillis == Long.MIN_VALUE;
  }

  /** This counter with {@code amount} added at {@code eventMillis}, in any order of arrival. */
  public DecayedCounter add(double amount, long eventMillis, long halfLifeMillis) {
    if (isEmpty()) {
      return new DecayedCounter(amount, eventMillis);
    }
    if (eventMillis >= referenceMillis) {
      double decayed = value * decayFactor(eventMillis - referenceMillis, halfLifeMillis);
      return new DecayedCounter(decayed + amount, eventMillis);
    }
    return new DecayedCounter(
        value + amount * decayFactor(referenceMillis - eventMillis, halfLifeMillis),
        referenceMillis);
  }

  /**
   * The value at {@code atMillis}.
   *
   * @throws IllegalArgumentException when {@code atMillis} is before the reference time: the
   *     counter already holds later events and cannot say what it was then
   */
  public double valueAt(long atMillis, long halfLifeMillis) {
    if (isEmpty()) {
      return 0.0;
    }
    if (atMillis < referenceMillis) {
      throw new IllegalArgumentException(
          "cannot read a decayed counter at "
              + atMillis
              + ", before its latest event at "
              + referenceMillis);
    }
    return value * decayFactor(atMillis - referenceMillis, halfLifeMillis);
  }

  /** The counter over the events of both (e.g. two partitions' partial sums). */
  public DecayedCounter merge(DecayedCounter other, long halfLifeMillis) {
    if (other.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    long ref = Math.max(referenceMillis, other.referenceMillis);
    double v =
        value * decayFactor(ref - referenceMillis, halfLifeMillis)
            + other.value * decayFactor(ref - other.referenceMillis, halfLifeMillis);
    return new DecayedCounter(v, ref);
  }
}
