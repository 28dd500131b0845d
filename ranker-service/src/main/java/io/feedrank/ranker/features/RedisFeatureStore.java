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
  public Fetched fetch(long userId, long[] itemIds) {
    Response<Map<String, String>> user = null;
    Response<Map<String, String>>[] items = new Response[itemIds.length];
    try (AbstractPipeline p = jedis.pipelined()) {
      if (userId >= 0) {
        user = p.hgetAll(RedisConnections.userKey(userId));
      }
      for (int i = 0; i < itemIds.length; i++) {
        items[i] = p.hgetAll(RedisConnections.itemKey(itemIds[i]));
      }
      p.sync();
    }
    Map<String, String>[] out = new Map[itemIds.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = items[i].get();
    }
    return new Fetched(user == null ? Map.of() : user.get(), out);
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
