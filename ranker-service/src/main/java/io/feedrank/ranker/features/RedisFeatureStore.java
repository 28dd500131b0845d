package io.feedrank.ranker.features;

import io.feedrank.features.redis.RedisConnections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.ScanIteration;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Reads {@code fr:u:{id}} and {@code fr:i:{id}} with one pipelined {@code HGETALL} per entity: one
 * round trip for a request (one per node with Redis Cluster), never one call per item.
 */
public final class RedisFeatureStore implements FeatureStore {
  private final UnifiedJedis jedis;

  public RedisFeatureStore(UnifiedJedis jedis) {
    this.jedis = jedis;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Fetched fetch(long[] userIds, long[] itemIds) {
    Response<Map<String, String>>[] users = new Response[userIds.length];
    Response<Map<String, String>>[] items = new Response[itemIds.length];
    try (AbstractPipeline p = jedis.pipelined()) {
      for (int i = 0; i < userIds.length; i++) {
        users[i] = p.hgetAll(RedisConnections.userKey(userIds[i]));
      }
      for (int i = 0; i < itemIds.length; i++) {
        items[i] = p.hgetAll(RedisConnections.itemKey(itemIds[i]));
      }
      p.sync();
    }
    return new Fetched(values(users), values(items));
  }

  /**
   * What a key that Redis refused to read as a hash stands for: a hash no state can be parsed from,
   * so the entity gets default features as malformed ({@code bad_features}).
   */
  static final String UNREADABLE = "_unreadable";

  @SuppressWarnings("unchecked")
  private static Map<String, String>[] values(Response<Map<String, String>>[] responses) {
    Map<String, String>[] out = new Map[responses.length];
    for (int i = 0; i < out.length; i++) {
      try {
        out[i] = responses[i].get();
      } catch (JedisDataException e) {
        if (e.getMessage() == null || !e.getMessage().startsWith("WRONGTYPE")) {
          throw e; // LOADING, BUSY, NOAUTH, a cluster's MOVED: Redis is not answering this read
        }
        // one key of another type: Redis answered, and the other keys' answers stand. Thrown,
        // it failed the request's whole read and counted against the breaker: one such key
        // named by many requests could open it for everyone
        out[i] = Map.of(UNREADABLE, e.getMessage());
      }
    }
    return out;
  }

  /**
   * Up to {@code max} ids of users ({@code fr:u:*}) or items ({@code fr:i:*}) that have features,
   * by {@code SCAN}: in the order of Redis's hash table, so a spread of the key space rather than
   * the newest or the lowest ids; with Redis Cluster, node after node. A few round trips of 1,000
   * keys each, never a blocking {@code KEYS}.
   */
  public long[] sampleIds(boolean users, int max) {
    String prefix = users ? RedisConnections.USER_PREFIX : RedisConnections.ITEM_PREFIX;
    // SCAN may return a key twice (while the table rehashes): a set keeps the ids distinct
    Set<Long> ids = new LinkedHashSet<>();
    ScanIteration scan = jedis.scanIteration(1_000, prefix + "*");
    while (ids.size() < max && !scan.isIterationCompleted()) {
      for (String key : scan.nextBatchList()) {
        if (ids.size() == max) {
          break;
        }
        try {
          ids.add(Long.parseLong(key.substring(prefix.length())));
        } catch (NumberFormatException e) {
          // another kind of key under the prefix: not an entity
        }
      }
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  /** Whether Redis answers a PING. */
  public boolean ping() {
    try {
      return "PONG".equalsIgnoreCase(jedis.ping());
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void close() {
    jedis.close();
  }
}
