package io.feedrank.features.state;

import io.feedrank.features.decay.DecayedVector;
import io.feedrank.features.decay.HalfLife;

/** A user's engagement with one category: impressions and clicks at 1 d and 7 d, last click. */
final class CategoryState {
  static final int IMP_1D = 0;
  static final int CLK_1D = 1;
  static final int IMP_7D = 2;
  static final int CLK_7D = 3;
  static final String[] FIELDS = {"impressions_1d", "clicks_1d", "impressions_7d", "clicks_7d"};

  /** The clicks slot and the impressions slot of each half-life. */
  static final int[][] CLICKS_AND_IMPRESSIONS = {{CLK_1D, IMP_1D}, {CLK_7D, IMP_7D}};

  static final long[] HALF_LIVES = {
    HalfLife.ONE_DAY.millis(),
    HalfLife.ONE_DAY.millis(),
    HalfLife.SEVEN_DAYS.millis(),
    HalfLife.SEVEN_DAYS.millis()
  };

  final DecayedVector vector;
  long lastClickMillis;

  CategoryState() {
    this(new DecayedVector(HALF_LIVES), Long.MIN_VALUE);
  }

  CategoryState(DecayedVector vector, long lastClickMillis) {
    this.vector = vector;
    this.lastClickMillis = lastClickMillis;
  }

  void add(boolean click, long eventMillis) {
    double c = click ? 1.0 : 0.0;
    vector.add(new double[] {1.0, c, 1.0, c}, eventMillis);
    if (click) {
      lastClickMillis = Math.max(lastClickMillis, eventMillis);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CategoryState c
        && vector.equals(c.vector)
        && lastClickMillis == c.lastClickMillis;
  }

  @Override
  public int hashCode() {
    return vector.hashCode();
  }
}
