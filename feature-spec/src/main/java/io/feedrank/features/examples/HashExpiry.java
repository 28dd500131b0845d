package io.feedrank.features.examples;

import java.time.Duration;

/**
 * Whether the ranker still found an entity's Redis hash when an event of it was served, judged in
 * event time. The features app's hash expires {@code redis.ttl.seconds} after the entity's last
 * write with {@code _ts}, which carries its latest event (a write without {@code _ts}, of a profile
 * or of catalog metadata, does not move the expiry): it is gone for an event more than the TTL
 * after the entity's latest, and the ranker serves the entity with default features, as one never
 * seen. The hash is written within a flush interval of its event, so its wall-clock expiry and this
 * one differ by about as much. Event time, as every feature of an example: the topic replayed, or
 * the events fed in memory, build the same examples.
 *
 * @param ttlMillis the hashes' expiry, {@code redis.ttl.seconds} in milliseconds
 */
public record HashExpiry(long ttlMillis) {
  /** The features app's {@code redis.ttl.seconds} unless configured otherwise: 30 days. */
  public static final Duration DEFAULT_TTL = Duration.ofDays(30);

  public HashExpiry {
    if (ttlMillis < 1) {
      throw new IllegalArgumentException(
          "the hashes' TTL must be positive, got " + ttlMillis + " ms");
    }
  }

  public HashExpiry(Duration ttl) {
    this(ttl.toMillis());
  }

  /**
   * Whether an entity's hash was gone by an event at {@code eventMillis}.
   *
   * @param latestEventMillis the entity's latest event before this one, {@link Long#MIN_VALUE} for
   *     one never seen (no hash with {@code _ts} to lose)
   */
  public boolean expiredBy(long eventMillis, long latestEventMillis) {
    return latestEventMillis != Long.MIN_VALUE && eventMillis - latestEventMillis > ttlMillis;
  }
}
