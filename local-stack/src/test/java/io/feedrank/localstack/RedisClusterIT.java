package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.exceptions.JedisMovedDataException;

/** A real three-master Redis Cluster: slots spread, clients routed, nothing left behind. */
class RedisClusterIT {
  static final int KEYS = 3_000;

  @Test
  void aClusterClientSpreadsKeysOverEveryMasterAndStoppingLeavesNoProcess(@TempDir Path dir)
      throws Exception {
    List<Long> pids;
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60))) {
      pids = cluster.nodes().stream().map(RedisInstance::pid).toList();
      assertThat(cluster.uri()).startsWith("redis-cluster://127.0.0.1:");
      for (RedisInstance node : cluster.nodes()) {
        assertThat(LoopbackCheck.listeningAddressesOfProcess(node.pid()))
            .isNotEmpty()
            .allSatisfy(a -> assertThat(a).startsWith("127.0.0.1"));
      }

      Set<HostAndPort> seeds = new HashSet<>();
      cluster.nodes().forEach(n -> seeds.add(new HostAndPort(Ports.LOOPBACK, n.port())));
      try (RedisClusterClient client = RedisClusterClient.builder().nodes(seeds).build()) {
        try (var pipeline = client.pipelined()) {
          for (int i = 0; i < KEYS; i++) {
            pipeline.set("k:" + i, Integer.toString(i));
          }
          pipeline.sync();
        }
        for (int i = 0; i < KEYS; i += 97) {
          assertThat(client.get("k:" + i)).isEqualTo(Integer.toString(i));
        }
      }
      // every master holds about a third of the keys (CRC16 spreads them), and they add up
      List<Long> perNode = cluster.keysPerNode();
      assertThat(perNode.stream().mapToLong(Long::longValue).sum()).isEqualTo(KEYS);
      assertThat(perNode)
          .allSatisfy(n -> assertThat(n).isBetween(KEYS / 3 - 200L, KEYS / 3 + 200L));

      // a node asked for a key it does not own redirects: it really is a cluster
      int notOnFirst = -1;
      try (Jedis first = cluster.nodes().get(0).client(2_000)) {
        for (int i = 0; i < KEYS && notOnFirst < 0; i++) {
          try {
            first.get("k:" + i);
          } catch (JedisMovedDataException moved) {
            notOnFirst = i;
          }
        }
        int key = notOnFirst;
        assertThat(key).isNotNegative();
        assertThatThrownBy(() -> first.get("k:" + key)).isInstanceOf(JedisMovedDataException.class);
      }

      // a slot moved to another master takes its keys along, and the old owner redirects them
      RedisInstance before = cluster.ownerOf("k:0");
      RedisInstance after = cluster.moveSlotOf("k:0");
      assertThat(after).isNotSameAs(before);
      assertThat(cluster.ownerOf("k:0")).isSameAs(after);
      try (Jedis owner = after.client(2_000)) {
        assertThat(owner.get("k:0")).isEqualTo("0");
      }
      assertThat(cluster.keysPerNode().stream().mapToLong(Long::longValue).sum()).isEqualTo(KEYS);
    }
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
          .as("pid " + pid)
          .isNotEqualTo(java.util.Optional.of(true));
    }
  }
}
