package io.feedrank.streams.redis;

import io.feedrank.features.redis.RedisConnections;
import java.util.List;
import java.util.Map;

/**
 * Where entity features go (Redis in production). Writes set whole field values — never increments
 * — so writing the same state twice, or replaying after a crash, converges to the same hash.
 */
public interface FeatureWriter extends AutoCloseable {

  /**
   * One entity's hash fields: {@code fr:u:{id}} or {@code fr:i:{id}}.
   *
   * @param latestEventMillis event time of the newest event in these values, for freshness
   */
  record FeatureWrite(String key, Map<String, String> fields, long latestEventMillis) {}

  /** {@link FeatureWrite#latestEventMillis} of a write no event caused (an item's metadata). */
  long NO_EVENT = -1;

  /**
   * Writes a batch in one round trip (or hands it to a writer that will).
   *
   * @throws RuntimeException when the store is unreachable; the caller keeps the batch and retries
   */
  void write(List<FeatureWrite> batch);

  @Override
  default void close() {}

  static String userKey(long userId) {
    return RedisConnections.userKey(userId);
  }

  static String itemKey(long itemId) {
    return RedisConnections.itemKey(itemId);
  }
}
