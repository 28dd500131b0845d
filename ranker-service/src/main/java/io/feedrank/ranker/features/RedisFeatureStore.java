package io.feedrank.ranker.features;

import io.feedrank.features.redis.RedisConnections;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

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

  @SuppressWarnings("unchecked")
  private static Map<String, String>[] values(Response<Map<String, String>>[] responses) {
    Map<String, String>[] out = new Map[responses.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = responses[i].get();
    }
    return out;
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
