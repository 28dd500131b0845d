package io.feedrank.streams.redis;

import io.feedrank.features.redis.RedisConnections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where entity features go (Redis in production). Writes set whole field values — never increments
 * — so writing the same state twice, or replaying after a crash, converges to the same hash.
 */
public interface FeatureWriter extends AutoCloseable {

  /**
   * One entity's hash fields: {@code fr:u:{id}} or {@code fr:i:{id}}.
   *
   * @param latestEventMillis event time of the newest event in these values, for freshness
   * @param partial whether the fields leave out some the entity's hash holds (a user's categories
   *     no event since the last write touched; an item's metadata or a user's profile, without the
   *     state): right over the hash, short of it without one, so one that carries state is refused
   *     there ({@link #writeFindingLost})
   * @param baseEvents for a partial write, the {@code lifetime_events} the hash must hold already:
   *     the entity's count as of its last landed write, which held the categories this one leaves
   *     out. A hash with fewer (Redis brought back an older copy: a restart from its AOF or RDB, a
   *     failover to a replica behind) lacks some of them, and the write is refused there as over a
   *     hash without state. {@link #NO_BASE} when not known: no such check
   */
  record FeatureWrite(
      String key,
      Map<String, String> fields,
      long latestEventMillis,
      boolean partial,
      long baseEvents) {
    /** A write of the entity's whole hash. */
    public FeatureWrite(String key, Map<String, String> fields, long latestEventMillis) {
      this(key, fields, latestEventMillis, false);
    }

    /** A write without a {@link #baseEvents} to check. */
    public FeatureWrite(
        String key, Map<String, String> fields, long latestEventMillis, boolean partial) {
      this(key, fields, latestEventMillis, partial, NO_BASE);
    }
  }

  /** {@link FeatureWrite#baseEvents} not known: a partial write is not checked against a count. */
  long NO_BASE = -1;

  /**
   * {@link FeatureWrite#latestEventMillis} of a write no event caused (an item's metadata, a user's
   * profile).
   */
  long NO_EVENT = -1;

  /**
   * Writes a batch in one round trip (or hands it to a writer that will).
   *
   * @throws RuntimeException when the store is unreachable; the caller keeps the batch and retries
   */
  void write(List<FeatureWrite> batch);

  /**
   * {@link #write}, and the keys of the batch's {@link FeatureWrite#partial partial} writes that
   * found their hash without the entity's state (Redis lost it: a restart without persistence, an
   * eviction, the TTL) or with fewer events than their {@link FeatureWrite#baseEvents} (Redis
   * brought back an older copy of it) and set nothing: the entity must be written whole. By default
   * none are known.
   */
  default Set<String> writeFindingLost(List<FeatureWrite> batch) {
    write(batch);
    return Set.of();
  }

  @Override
  default void close() {}

  static String userKey(long userId) {
    return RedisConnections.userKey(userId);
  }

  static String itemKey(long itemId) {
    return RedisConnections.itemKey(itemId);
  }
}
