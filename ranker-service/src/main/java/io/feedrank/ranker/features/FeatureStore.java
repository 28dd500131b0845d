package io.feedrank.ranker.features;

import java.util.Map;

/** Where the ranker reads entity features from (Redis in production). */
public interface FeatureStore extends AutoCloseable {

  /**
   * The hashes of a user and of items, in one round trip. An entity without features has an empty
   * map.
   *
   * @param userId the user, or a negative number to read items only
   * @return the user's hash (empty when not asked for) and one hash per item, in order
   * @throws RuntimeException when the store cannot answer (unreachable, timeout)
   */
  Fetched fetch(long userId, long[] itemIds);

  record Fetched(Map<String, String> user, Map<String, String>[] items) {}

  @Override
  default void close() {}
}
