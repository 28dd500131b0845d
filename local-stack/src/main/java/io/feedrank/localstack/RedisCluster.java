package io.feedrank.localstack;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisMovedDataException;
import redis.clients.jedis.params.MigrateParams;

/**
 * A real Redis Cluster on 127.0.0.1: {@code nodes} {@code redis-server} masters (the same binary as
 * {@link RedisInstance}, in cluster mode, each in its own directory, no persistence), the 16,384
 * hash slots split evenly between them, joined with {@code CLUSTER MEET}; ready when every node
 * reports {@code cluster_state:ok} and knows the others. Each node's port {@code p} is chosen with
 * {@code p + 10000} free as well, for its cluster bus (on 127.0.0.1 too). No replicas: it is there
 * to exercise the clients' slot routing (keys of one pipeline on several nodes, MOVED handling, a
 * slot moved to another master: {@link #moveSlotOf}), not failover.
 */
public final class RedisCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);
  static final int SLOTS = 16_384;

  private final List<RedisInstance> nodes = new ArrayList<>();

  private RedisCluster() {}

  /**
   * Starts {@code count} (≥ 3, as Redis requires for a cluster of masters) nodes below {@code dir}.
   */
  public static RedisCluster start(Path dir, int count, Duration timeout) throws IOException {
    if (count < 3) {
      throw new IllegalArgumentException("a Redis Cluster needs at least 3 masters, got " + count);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    RedisCluster c = new RedisCluster();
    try {
      for (int i = 0; i < count; i++) {
        Path nodeDir = dir.resolve("node-" + i);
        RedisInstance node =
            new RedisInstance(
                nodeDir,
                Ports.freePortWithBus(),
                List.of(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    nodeDir.resolve("nodes.conf").toString(),
                    "--cluster-node-timeout",
                    "5000"));
        c.nodes.add(node);
        node.start(remaining(deadline));
      }
      c.form(deadline);
      log.info("local-stack: Redis Cluster ready at {}", c.uri());
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void form(long deadline) throws IOException {
    int n = nodes.size();
    for (int i = 0; i < n; i++) {
      int from = i * SLOTS / n;
      int to = (i + 1) * SLOTS / n;
      int[] slots = new int[to - from];
      for (int s = from; s < to; s++) {
        slots[s - from] = s;
      }
      try (Jedis j = nodes.get(i).client(5_000)) {
        j.clusterAddSlots(slots);
      }
    }
    try (Jedis first = nodes.get(0).client(5_000)) {
      for (int i = 1; i < n; i++) {
        first.clusterMeet(Ports.LOOPBACK, nodes.get(i).port());
      }
    }
    String last = "";
    while (System.nanoTime() < deadline) {
      boolean ready = true;
      for (RedisInstance node : nodes) {
        try (Jedis j = node.client(1_000)) {
          last = j.clusterInfo();
          ready &= last.contains("cluster_state:ok") && last.contains("cluster_known_nodes:" + n);
        }
      }
      if (ready) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while the Redis Cluster formed", e);
      }
    }
    throw new IOException("the Redis Cluster did not form in time; last CLUSTER INFO:\n" + last);
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
  }

  /** {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…}: every node, as seeds. */
  public String uri() {
    return "redis-cluster://"
        + nodes.stream().map(n -> Ports.LOOPBACK + ":" + n.port()).collect(Collectors.joining(","));
  }

  public List<RedisInstance> nodes() {
    return List.copyOf(nodes);
  }

  /** How many keys each node holds, in node order (DBSIZE). */
  public List<Long> keysPerNode() {
    List<Long> out = new ArrayList<>();
    for (RedisInstance node : nodes) {
      try (Jedis j = node.client(5_000)) {
        out.add(j.dbSize());
      }
    }
    return out;
  }

  /**
   * Moves the hash slot of {@code key}, with every key in it, from the master that owns it to the
   * next one in node order, as {@code redis-cli --cluster reshard} does: {@code CLUSTER SETSLOT …
   * IMPORTING} on the target, {@code MIGRATING} on the source, {@code MIGRATE} of the slot's keys,
   * then {@code SETSLOT … NODE} on every master, the target first. A client that cached the old
   * owner is then answered {@code MOVED} by it. Returns the new owner.
   */
  public RedisInstance moveSlotOf(String key) {
    RedisInstance from = ownerOf(key);
    RedisInstance to = nodes.get((nodes.indexOf(from) + 1) % nodes.size());
    try (Jedis source = from.client(5_000);
        Jedis target = to.client(5_000)) {
      int slot = (int) source.clusterKeySlot(key);
      String sourceId = source.clusterMyId();
      String targetId = target.clusterMyId();
      target.clusterSetSlotImporting(slot, sourceId);
      source.clusterSetSlotMigrating(slot, targetId);
      for (List<String> keys; !(keys = source.clusterGetKeysInSlot(slot, 100)).isEmpty(); ) {
        source.migrate(
            Ports.LOOPBACK, to.port(), 0, 5_000, new MigrateParams(), keys.toArray(new String[0]));
      }
      target.clusterSetSlotNode(slot, targetId);
      for (RedisInstance node : nodes) {
        if (node != to) {
          try (Jedis j = node.client(5_000)) {
            j.clusterSetSlotNode(slot, targetId);
          }
        }
      }
    }
    return to;
  }

  /** The master that answers for {@code key}: every other one redirects it ({@code MOVED}). */
  public RedisInstance ownerOf(String key) {
    for (RedisInstance node : nodes) {
      try (Jedis j = node.client(5_000)) {
        j.exists(key);
        return node;
      } catch (JedisMovedDataException elsewhere) {
        // not this one
      }
    }
    throw new IllegalStateException("no master of the cluster answers for " + key);
  }

  @Override
  public void close() {
    nodes.forEach(RedisInstance::stop);
  }
}
