package io.feedrank.simulator;

/**
 * Drift scenarios. Each starts at an event time and has a strength in (0, 1] that scales how far
 * the distribution moves (1 = the full shift described).
 */
public enum Scenario {
  /** Stationary traffic. */
  NONE,
  /**
   * Preferences move to a few trending categories (chosen by seed among the smaller ones): the
   * category mix of impressions and user-category affinities change, and engagement follows.
   */
  CATEGORY_SHIFT,
  /** The device mix moves from mostly mobile to mostly desktop. */
  DEVICE_SHIFT,
  /** Engagement drops: the click logit falls by 1.2 × strength (roughly halves CTR at 1). */
  CTR_DROP,
  /**
   * A flood of new items (20% of the catalog) is published at the start and takes half × strength
   * of the impressions.
   */
  NEW_ITEM_FLOOD
}
