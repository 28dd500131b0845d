package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.RedisCluster;
import io.feedrank.localstack.RedisInstance;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;

/** The ranker's feature reads on a real three-master Redis Cluster whose slots move. */
class RedisFeatureStoreClusterIT {
  static final long USER = 42;

  /**
   * After the slot of a user's hash moves to another master (a reshard; a failover hands a master's
   * slots to its replica alike), a read of it returns the hash again within seconds. The cluster
   * pipeline routes by the slot map the client holds and never renews it: every read of a key in
   * that slot was answered MOVED (the breaker open, stale then default features) until the ranker
   * restarted.
   */
  @Test
  void aReadOfAKeyInAMovedSlotReturnsItsHashFromTheNewOwner(@TempDir Path dir) throws Exception {
    String key = RedisConnections.userKey(USER);
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60));
        UnifiedJedis writer = RedisConnections.connect(cluster.uri(), Duration.ofSeconds(2));
        RedisFeatureStore store =
            new RedisFeatureStore(RedisConnections.connect(cluster.uri(), Duration.ofSeconds(2)))) {
      writer.hset(key, Map.of("_v", "1", "clicks_1h", "1"));
      assertThat(read(store)).isEqualTo(Map.of("_v", "1", "clicks_1h", "1"));

      RedisInstance after = cluster.moveSlotOf(key);
      try (Jedis owner = new Jedis(URI.create(after.uri()))) {
        owner.hset(key, "clicks_1h", "2");
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .ignoreExceptions()
          .untilAsserted(
              () -> assertThat(read(store)).isEqualTo(Map.of("_v", "1", "clicks_1h", "2")));
    }
  }

  private static Map<String, String> read(RedisFeatureStore store) {
    return store.fetch(new long[] {USER}, new long[0]).users()[0];
  }
}
