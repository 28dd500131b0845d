package io.feedrank.ranker.features;

/**
 * Per-entity TTLs, so that entries read together do not expire together. A cold cache's first
 * requests, a model's first requests and a background re-read of a batch all read or compute many
 * entries at one moment; with one TTL they would all expire at one moment, and again at every
 * expiry after that, since each is re-read when it expires: every request of that moment would find
 * its candidates expired at once (a two-tower request then looks up the features of all of them and
 * runs the item tower for those past their max age), and the background refresh would get one large
 * batch. Shortening each entity's TTL by a share of up to a quarter, fixed for its id, spreads
 * those expiries evenly over the TTL's last quarter and keeps them spread; no entry counts as fresh
 * past the TTL configured.
 */
public final class Jitter {
  private Jitter() {}

  /**
   * Whether an entry of {@code id} that is {@code ageNanos} old is past its {@link #ttl}: without
   * hashing the id while it is younger than three quarters of {@code ttlNanos}, as most entries a
   * request looks up are (their TTL cannot end before that).
   */
  public static boolean expired(long id, long ageNanos, long ttlNanos) {
    return ageNanos > ttlNanos - (ttlNanos >>> 2) && ageNanos >= ttl(id, ttlNanos);
  }

  /**
   * {@code ttlNanos} less an amount in {@code [0, ttlNanos / 4)} fixed for {@code id}, uniform over
   * ids (consecutive ids included).
   */
  public static long ttl(long id, long ttlNanos) {
    // SplitMix64 of the id: every bit of the id moves about half of the output's bits
    long z = Parsed.mix(id * 0x9e3779b97f4a7c15L);
    // (z >>> 1) / 2^63 is uniform in [0, 1); times the quarter, without overflow
    return ttlNanos - 2 * Math.multiplyHigh(z >>> 1, ttlNanos >>> 2);
  }
}
