package io.feedrank.features.state;

import io.feedrank.events.InteractionEvent;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.FeatureSchema.Engagement;
import io.feedrank.features.decay.HalfLife;
import io.feedrank.features.decay.SmoothedRate;

/** The engagement slots shared by user and item state. */
final class Engagements {
  private static final HalfLife[] HALF_LIVES = HalfLife.values();

  static final int SLOTS = FeatureSchema.ENGAGEMENT_SLOTS;

  /** What an impression has at most one of. */
  private static final Engagement[] PER_IMPRESSION = {
    Engagement.CLICKS, Engagement.LIKES, Engagement.SHARES
  };

  /** Half-life of each engagement slot. */
  static long[] halfLives() {
    long[] h = new long[SLOTS];
    for (Engagement e : Engagement.values()) {
      for (HalfLife hl : HALF_LIVES) {
        h[e.slot(hl)] = hl.millis();
      }
    }
    return h;
  }

  /** What one event adds to each engagement slot, written into {@code into[0..SLOTS)}. */
  static void amounts(InteractionEvent e, double[] into) {
    for (HalfLife h : HALF_LIVES) {
      into[Engagement.IMPRESSIONS.slot(h)] = 1.0;
      into[Engagement.CLICKS.slot(h)] = e.getClick() ? 1.0 : 0.0;
      into[Engagement.LIKES.slot(h)] = e.getLike() ? 1.0 : 0.0;
      into[Engagement.SHARES.slot(h)] = e.getShare() ? 1.0 : 0.0;
      into[Engagement.DWELL.slot(h)] = e.getDwellSeconds();
    }
  }

  /** Writes the 15 counters then the 3 smoothed CTRs at {@code at}; returns the next index. */
  static int countersAndCtrs(double[] slots, double[] out, int i) {
    System.arraycopy(slots, 0, out, i, SLOTS);
    i += SLOTS;
    for (HalfLife h : HALF_LIVES) {
      out[i++] =
          SmoothedRate.of(
              slots[Engagement.CLICKS.slot(h)],
              slots[Engagement.IMPRESSIONS.slot(h)],
              FeatureSchema.CTR_PRIOR,
              FeatureSchema.CTR_PRIOR_STRENGTH);
    }
    return i;
  }

  /**
   * Requires the clicks, likes and shares of each half-life in {@code slots} (engagement slots read
   * from a hash, {@code fields} their names) not above its impressions ({@link
   * Codec#requireAtMost}).
   */
  static void requireWithinImpressions(double[] slots, String[] fields) {
    for (HalfLife h : HALF_LIVES) {
      int imp = Engagement.IMPRESSIONS.slot(h);
      for (Engagement e : PER_IMPRESSION) {
        int s = e.slot(h);
        Codec.requireAtMost(slots[s], fields[s], slots[imp], fields[imp]);
      }
    }
  }

  static double hoursSince(long then, long at) {
    if (then == Long.MIN_VALUE) {
      return FeatureSchema.NEVER;
    }
    return Math.min(FeatureSchema.NEVER, Math.max(0, at - then) / 3_600_000.0);
  }

  static double daysSince(long then, long at) {
    if (then == Long.MIN_VALUE) {
      return FeatureSchema.NEVER;
    }
    return Math.min(FeatureSchema.NEVER, Math.max(0, at - then) / 86_400_000.0);
  }

  private Engagements() {}
}
