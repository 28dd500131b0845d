package io.feedrank.ranker.features;

import java.util.Map;

/** Where the ranker reads entity features from (Redis in production). */
public interface FeatureStore extends AutoCloseable {

  /**
   * The hashes of users and items, in one round trip. An entity without features has an empty map.
   *
   * @return one hash per user and one per item, in order
   * @throws RuntimeException when the store cannot answer (unreachable, timeout)
   */
  Fetched fetch(long[] userIds, long[] itemIds);

  record Fetched(Map<String, String>[] users, Map<String, String>[] items) {}

  @Override
  default void close() {}
}
