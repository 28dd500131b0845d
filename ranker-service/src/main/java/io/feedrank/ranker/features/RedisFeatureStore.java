package io.feedrank.ranker.features;

import io.feedrank.features.redis.RedisConnections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.ScanIteration;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Reads {@code fr:u:{id}} and {@code fr:i:{id}} with one pipelined {@code HGETALL} per entity: one
 * round trip for a request (one per node with Redis Cluster), never one call per item.
 *
 * <p>With Redis Cluster, a read that fails for a redirection or a node out of reach ({@link
 * RedisConnections#topologyMayHaveChanged}) has the client's slot map renewed on a thread of its
 * own, one renewal at a time: the pipeline routes by that map and never renews it itself, so after
 * a failover or a reshard every read with a key in a moved slot failed (the breaker open, stale
 * then default features) until the ranker restarted. Not on the caller's thread: that is a
 * request's event loop, and the renewal opens a connection to a seed node and waits for {@code
 * CLUSTER SLOTS}.
 */
public final class RedisFeatureStore implements FeatureStore {
  private static final Logger log = LoggerFactory.getLogger(RedisFeatureStore.class);

  private final UnifiedJedis jedis;
  private final AtomicBoolean renewing = new AtomicBoolean();

  public RedisFeatureStore(UnifiedJedis jedis) {
    this.jedis = jedis;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Fetched fetch(long[] userIds, long[] itemIds) {
    Response<Map<String, String>>[] users = new Response[userIds.length];
    Response<Map<String, String>>[] items = new Response[itemIds.length];
    try {
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
    } catch (RuntimeException e) {
      if (jedis instanceof RedisClusterClient cluster
          && RedisConnections.topologyMayHaveChanged(e)) {
        renewSlotMap(cluster);
      }
      throw e;
    }
  }

  /**
   * Starts a renewal of the slot map unless one is under way; the reads meanwhile fail as before.
   */
  private void renewSlotMap(RedisClusterClient cluster) {
    if (!renewing.compareAndSet(false, true)) {
      return;
    }
    Thread t =
        new Thread(
            () -> {
              try {
                cluster.refreshClusterTopology();
              } catch (RuntimeException e) {
                // the next failed read starts another, and the client's own refresh runs too
                log.debug("ranker: renewing the Redis Cluster slot map failed: {}", e.toString());
              } finally {
                renewing.set(false);
              }
            },
            "ranker-redis-slot-map");
    t.setDaemon(true);
    t.start();
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
