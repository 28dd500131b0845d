package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.RedisCluster;
import io.feedrank.localstack.RedisInstance;
import io.feedrank.localstack.TcpGate;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.AsyncFeatureWriter;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import io.feedrank.streams.redis.HeldWriter;
import io.feedrank.streams.redis.RedisFeatureWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.RestoreParams;

/**
 * The Redis writer against the real server when Redis answers a command with an error (here {@code
 * WRONGTYPE}; in production also OOM under {@code noeviction}, {@code READONLY} after a failover,
 * {@code NOPERM}): the batch fails and is kept, instead of counting as written.
 */
@LocalStackTest
class RedisFeatureWriterIT {

  /**
   * A partial write (a user's write leaving out categories no event touched) that finds no state in
   * the hash sets nothing, and the writer says so, so that the user is written whole; it is refused
   * again until a whole write lands, whoever sends it. One that finds the state, or a whole write,
   * is applied and not reported.
   */
  @Test
  void aPartialWriteThatFindsItsHashLostIsRefusedAndReported(LocalStack stack) {
    String user = "fr:u:lost-it-" + System.nanoTime();
    String fresh = user + "-fresh";
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        RedisFeatureWriter writer =
            new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), meters)) {
      Map<String, String> whole = Map.of("_v", "1", "_ts", "1", "c.a._ts", "1", "c.b._ts", "1");
      Map<String, String> partial = Map.of("_v", "1", "_ts", "2", "c.b._ts", "2");
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, whole, 1, false))))
          .isEmpty();
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, partial, 2, true))))
          .isEmpty();
      assertThat(redis.hgetAll(user)).containsEntry("c.a._ts", "1").containsEntry("_ts", "2");

      redis.del(user); // Redis lost it
      assertThat(
              writer.writeFindingLost(
                  List.of(
                      new FeatureWrite(user, partial, 3, true),
                      new FeatureWrite(fresh, whole, 3, false))))
          .containsExactly(user);
      assertThat(redis.exists(user)).isFalse();
      assertThat(redis.hgetAll(fresh)).isEqualTo(whole);
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, partial, 3, true))))
          .containsExactly(user);
      assertThat(meters.counter("features.redis.write.refused").count()).isEqualTo(2.0);

      // Redis lost it, and the user's profile was written again since (a start of the app): the
      // hash is there, but holds no state, and a partial write is refused all the same
      Map<String, String> profile = Map.of("_v", "1", "created_at", "5");
      redis.hset(user, profile);
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, partial, 4, true))))
          .containsExactly(user);
      assertThat(redis.hgetAll(user)).isEqualTo(profile);

      // the whole write lands, and the partial writes after it apply again
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, whole, 4, false))))
          .isEmpty();
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, partial, 5, true))))
          .isEmpty();
      assertThat(redis.hgetAll(user)).containsEntry("c.a._ts", "1").containsEntry("_ts", "2");
    }
  }

  /**
   * Redis brings a hash back at an older version (a restart from its RDB snapshot or AOF, a
   * failover to a replica behind), not gone: it still has {@code _ts}, but lacks the categories the
   * writes since carried. A partial write whose base (the events the hash held at the last landed
   * write) is above the hash's {@code lifetime_events} sets nothing and is reported, so the user is
   * written whole; one whose base the hash holds, or without a base, applies.
   */
  @Test
  void aPartialWriteOverAnOlderCopyOfItsHashIsRefusedAndReported(LocalStack stack) {
    String user = "fr:u:rolled-back-" + System.nanoTime();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        RedisFeatureWriter writer =
            new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), meters)) {
      Map<String, String> whole =
          Map.of("_v", "1", "_ts", "1", "lifetime_events", "1", "c.a._ts", "1", "c.a.clicks", "1");
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, whole, 1, false))))
          .isEmpty();
      byte[] snapshot = redis.dump(user);
      Map<String, String> music =
          Map.of("_v", "1", "_ts", "2", "lifetime_events", "2", "c.b._ts", "2");
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, music, 2, true, 1))))
          .isEmpty();
      assertThat(redis.hgetAll(user)).containsEntry("c.b._ts", "2");

      // the snapshot reloaded: the hash is back at lifetime_events 1, without c.b
      redis.restore(user, 0, snapshot, RestoreParams.restoreParams().replace());
      Map<String, String> news =
          Map.of("_v", "1", "_ts", "3", "lifetime_events", "3", "c.a._ts", "3");
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, news, 3, true, 2))))
          .containsExactly(user);
      assertThat(redis.hgetAll(user)).isEqualTo(whole);
      assertThat(meters.counter("features.redis.write.refused").count()).isEqualTo(1.0);

      // a base the hash holds, or none (an entry pending since before bases were kept), applies
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, news, 3, true, 1))))
          .isEmpty();
      assertThat(redis.hgetAll(user)).containsEntry("lifetime_events", "3");
      redis.restore(user, 0, snapshot, RestoreParams.restoreParams().replace());
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(user, news, 3, true)))).isEmpty();
      assertThat(redis.hgetAll(user)).containsEntry("lifetime_events", "3");
    }
  }

  /**
   * A user's partial write and their profile's write, merged while the writer thread is busy (the
   * global table's thread writes profiles as the stream threads flush, all of them at a start), are
   * answered as one: on a hash Redis lost, the real script's refusal still reaches the state
   * write's caller, who hears it did not land, and why (and has the user written whole).
   */
  @Test
  void aPartialWriteMergedWithAProfileWriteIsRefusedAndReportedLost(LocalStack stack)
      throws Exception {
    String user = "fr:u:merged-it-" + System.nanoTime();
    String other = user + "-other";
    List<FeatureWrite> landed = new CopyOnWriteArrayList<>();
    List<FeatureWrite> lost = new CopyOnWriteArrayList<>();
    Map<String, String> partial = Map.of("_v", "1", "_ts", "2", "c.b._ts", "2");
    Map<String, String> profile = Map.of("_v", "1", "country", "FR", "created_at", "5");
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      RedisFeatureWriter real =
          new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), new SimpleMeterRegistry());
      real.write(
          List.of(new FeatureWrite(user, Map.of("_v", "1", "_ts", "1", "c.a._ts", "1"), 1, false)));
      redis.del(user); // Redis lost it
      HeldWriter held = new HeldWriter(real, true); // holds the first batch
      try (AsyncFeatureWriter async =
          new AsyncFeatureWriter(held, new FeatureMetrics(new SimpleMeterRegistry()), 1_000)) {
        async.write(List.of(new FeatureWrite(other, Map.of("n", "1"), 0)));
        held.awaitHeld();
        async.submit(List.of(new FeatureWrite(user, partial, 2, true)), landed::add, lost::add);
        // as the topology writes a profile: without the state, so partial
        async.write(List.of(new FeatureWrite(user, profile, FeatureWriter.NO_EVENT, true)));
        held.release();
      } // close: what is pending is written, and whom to tell told, before it returns
      Map<String, String> both = new java.util.HashMap<>(partial);
      both.putAll(profile);
      assertThat(redis.exists(user)).isFalse();
      assertThat(landed).isEmpty();
      assertThat(lost).containsExactly(new FeatureWrite(user, both, 2, true));
    }
  }

  /**
   * A write older than the hash (a previous owner's retry landing after the new owner's write: an
   * earlier {@code _ts}, or the same and fewer events) sets nothing and is counted; one as new
   * applies, as does one without {@code _ts} (an item's catalog metadata). A server that lost the
   * script (a restart, a promoted replica) is given it again, and a hash of more fields than one
   * HSET of the script takes is written whole.
   */
  @Test
  void aWriteOlderThanTheHashIsNotApplied(LocalStack stack) {
    String item = "fr:i:stale-it-" + System.nanoTime();
    String big = item + "-big";
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        RedisFeatureWriter writer =
            new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), meters)) {
      String n = "lifetime_events";
      writer.write(List.of(new FeatureWrite(item, Map.of("_ts", "2000", n, "2"), 2000)));
      writer.write(
          List.of(new FeatureWrite(item, Map.of("_ts", "1000", n, "1", "old", "x"), 1000)));
      assertThat(redis.hgetAll(item)).isEqualTo(Map.of("_ts", "2000", n, "2"));
      assertThat(meters.counter("features.redis.write.stale").count()).isEqualTo(1.0);

      writer.write(List.of(new FeatureWrite(item, Map.of("_ts", "2000", n, "3"), 2000)));
      writer.write(List.of(new FeatureWrite(item, Map.of("category", "news"), -1)));
      assertThat(redis.hgetAll(item)).isEqualTo(Map.of("_ts", "2000", n, "3", "category", "news"));
      assertThat(redis.pttl(item)).isPositive();

      // a late event (earlier than _ts) moved the counters and the count, not _ts: the state
      // before it, written late by a previous owner, has the same _ts and fewer events
      writer.write(
          List.of(new FeatureWrite(item, Map.of("_ts", "2000", n, "2", "old", "y"), 2000)));
      assertThat(redis.hgetAll(item)).isEqualTo(Map.of("_ts", "2000", n, "3", "category", "news"));
      assertThat(meters.counter("features.redis.write.stale").count()).isEqualTo(2.0);

      redis.scriptFlush(item);
      writer.write(List.of(new FeatureWrite(item, Map.of("_ts", "3000", n, "4"), 3000)));
      assertThat(redis.hget(item, n)).isEqualTo("4");

      Map<String, String> fields = new java.util.HashMap<>();
      fields.put("_ts", "1");
      for (int i = 0; i < 1_500; i++) {
        fields.put("f" + i, Integer.toString(i));
      }
      assertThat(writer.writeFindingLost(List.of(new FeatureWrite(big, fields, 1, false))))
          .isEmpty();
      assertThat(redis.hgetAll(big)).isEqualTo(fields);
      assertThat(meters.counter("features.redis.write.stale").count()).isEqualTo(2.0);
    }
  }

  /**
   * A write without {@code _ts} (an item's catalog metadata, a user's profile: rewritten at every
   * start as the items table is rebuilt) does not put an existing hash's expiry back to the full
   * TTL, or no item would ever expire while the app restarts within the TTL; a write of the
   * entity's state does. A hash it creates, or finds without an expiry, gets the TTL. Here {@code
   * PEXPIRE} to 5 s stands for a hash whose TTL has nearly run out; the writer's TTL is 1 day.
   */
  @Test
  void aWriteWithoutEventsLeavesAnExistingHashsExpiryAsItIs(LocalStack stack) {
    String item = "fr:i:expiry-it-" + System.nanoTime();
    String fresh = item + "-fresh";
    String persisted = item + "-persisted";
    long ttlMillis = Duration.ofDays(1).toMillis();
    long leftMillis = 5_000;
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        RedisFeatureWriter writer =
            new RedisFeatureWriter(
                stack.redisUri(), Duration.ofMillis(ttlMillis), new SimpleMeterRegistry())) {
      Map<String, String> counters = Map.of("_v", "1", "_ts", "1000", "lifetime_events", "1");
      Map<String, String> metadata = Map.of("_v", "1", "category", "news", "created_at", "5");
      writer.write(List.of(new FeatureWrite(item, counters, 1000)));
      assertThat(redis.pttl(item)).isBetween(ttlMillis - 60_000, ttlMillis);

      redis.pexpire(item, leftMillis);
      writer.write(List.of(new FeatureWrite(item, metadata, FeatureWriter.NO_EVENT)));
      assertThat(redis.hgetAll(item))
          .containsEntry("category", "news")
          .containsEntry("_ts", "1000");
      assertThat(redis.pttl(item)).isBetween(1L, leftMillis);

      // the entity's next event does
      writer.write(
          List.of(
              new FeatureWrite(
                  item, Map.of("_v", "1", "_ts", "2000", "lifetime_events", "2"), 2000)));
      assertThat(redis.pttl(item)).isBetween(ttlMillis - 60_000, ttlMillis);

      // a new item, known from the catalog alone, expires too
      writer.write(List.of(new FeatureWrite(fresh, metadata, FeatureWriter.NO_EVENT)));
      assertThat(redis.hgetAll(fresh)).isEqualTo(metadata);
      assertThat(redis.pttl(fresh)).isBetween(ttlMillis - 60_000, ttlMillis);

      // as does a hash found without an expiry
      redis.hset(persisted, Map.of("_v", "1"));
      assertThat(redis.pttl(persisted)).isEqualTo(-1L);
      writer.write(List.of(new FeatureWrite(persisted, metadata, FeatureWriter.NO_EVENT)));
      assertThat(redis.pttl(persisted)).isBetween(ttlMillis - 60_000, ttlMillis);
    }
  }

  /**
   * On a cluster whose one node lost the script (a restart, a failover), the writes that node
   * refused are written again once it has the script, and answered as the others are: users spread
   * over the three masters, each hash lost before a partial write, each write refused and reported.
   */
  @Test
  void onAClusterOnlyTheWritesOfTheNodeWithoutTheScriptAreWrittenAgain(@TempDir Path dir)
      throws Exception {
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60));
        UnifiedJedis redis = RedisConnections.connect(cluster.uri(), Duration.ofSeconds(5));
        RedisFeatureWriter writer =
            new RedisFeatureWriter(cluster.uri(), Duration.ofDays(1), new SimpleMeterRegistry())) {
      List<String> users = new java.util.ArrayList<>();
      for (int u = 0; u < 30; u++) {
        users.add("fr:u:cluster-it-" + u);
      }
      Map<String, String> whole = Map.of("_v", "1", "_ts", "1", "c.a._ts", "1");
      Map<String, String> partial = Map.of("_v", "1", "_ts", "2", "c.b._ts", "2");
      writer.write(users.stream().map(k -> new FeatureWrite(k, whole, 1, false)).toList());
      assertThat(cluster.keysPerNode()).allMatch(n -> n > 0); // every master holds some

      users.forEach(redis::del); // lost everywhere
      try (redis.clients.jedis.Jedis node =
          new redis.clients.jedis.Jedis(java.net.URI.create(cluster.nodes().get(0).uri()))) {
        node.scriptFlush(); // and one node lost the script
      }
      Set<String> lost =
          writer.writeFindingLost(
              users.stream().map(k -> new FeatureWrite(k, partial, 2, true)).toList());
      assertThat(lost).containsExactlyInAnyOrderElementsOf(users);
      users.forEach(k -> assertThat(redis.exists(k)).isFalse());
    }
  }

  /**
   * After the slot of a key moves to another master (a reshard; a failover hands a master's slots
   * to its replica alike), the writer's retry lands on the new owner, which is given the script it
   * has not seen (as a promoted replica may not have). The cluster pipeline routes by the slot map
   * the client holds, and neither follows a MOVED nor renews the map: every retry was answered
   * MOVED by the old owner until the app restarted.
   */
  @Test
  void onAClusterAWriteLandsOnTheNewOwnerOfAMovedSlot(@TempDir Path dir) throws Exception {
    String user = "fr:u:42";
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    AtomicInteger landed = new AtomicInteger();
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60));
        AsyncFeatureWriter writer =
            new AsyncFeatureWriter(
                new RedisFeatureWriter(cluster.uri(), Duration.ofDays(1), meters),
                new FeatureMetrics(meters),
                1_000)) {
      writer.submit(
          List.of(new FeatureWrite(user, Map.of("_v", "1", "_ts", "1"), 1)),
          w -> landed.incrementAndGet());
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> landed.get() == 1);
      RedisInstance before = cluster.ownerOf(user);

      RedisInstance after = cluster.moveSlotOf(user);
      assertThat(after).isNotSameAs(before);
      try (Jedis owner = new Jedis(URI.create(after.uri()))) {
        owner.scriptFlush();
        writer.submit(
            List.of(new FeatureWrite(user, Map.of("_v", "1", "_ts", "2"), 2)),
            w -> landed.incrementAndGet());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> landed.get() == 2);
        assertThat(owner.hgetAll(user)).isEqualTo(Map.of("_v", "1", "_ts", "2"));
      }
    }
  }

  /**
   * A failover behind an address that stays (a Kubernetes Service, a DNS name re-pointed at the
   * promoted replica) leaves the pool's connections open to the demoted master, which answers every
   * write READONLY: the writer drops them, and its retry lands on the new master through a new
   * connection. Two servers of their own behind a forwarder, whose new connections go to the new
   * master while the open ones stay with the old.
   */
  @Test
  void afterAFailoverBehindTheSameAddressTheRetryLandsOnTheNewMaster(@TempDir Path dir)
      throws Exception {
    String user = "fr:u:failover-it";
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    AtomicInteger landed = new AtomicInteger();
    try (RedisInstance old = new RedisInstance(dir.resolve("old"), 0);
        RedisInstance promoted = new RedisInstance(dir.resolve("promoted"), 0)) {
      old.start(Duration.ofSeconds(30));
      promoted.start(Duration.ofSeconds(30));
      try (TcpGate address = new TcpGate("127.0.0.1", old.port());
          AsyncFeatureWriter writer =
              new AsyncFeatureWriter(
                  new RedisFeatureWriter(
                      "redis://127.0.0.1:" + address.port(), Duration.ofDays(1), meters),
                  new FeatureMetrics(meters),
                  1_000)) {
        writer.submit(
            List.of(new FeatureWrite(user, Map.of("_v", "1", "_ts", "1"), 1)),
            w -> landed.incrementAndGet());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> landed.get() == 1);

        try (Jedis demoted = new Jedis(URI.create(old.uri()))) {
          demoted.replicaof("127.0.0.1", promoted.port());
        }
        address.retarget("127.0.0.1", promoted.port());
        writer.submit(
            List.of(new FeatureWrite(user, Map.of("_v", "1", "_ts", "2"), 2)),
            w -> landed.incrementAndGet());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> landed.get() == 2);
        try (Jedis master = new Jedis(URI.create(promoted.uri()))) {
          assertThat(master.hgetAll(user)).isEqualTo(Map.of("_v", "1", "_ts", "2"));
        }
      }
    }
  }

  @Test
  void aBatchWithACommandRedisRefusedFailsAndIsKeptUntilRedisTakesIt(LocalStack stack) {
    String bad = "fr:u:writer-it-" + System.nanoTime();
    String good = bad + "-ok";
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      redis.set(bad, "a string, not a hash");
      try (RedisFeatureWriter writer =
          new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), meters)) {
        List<FeatureWrite> batch =
            List.of(
                new FeatureWrite(good, Map.of("n", "1"), 0),
                new FeatureWrite(bad, Map.of("n", "2"), 0));
        assertThatThrownBy(() -> writer.write(batch))
            .hasMessageContaining("writing " + bad)
            .hasMessageContaining("WRONGTYPE");
      }

      // through the writer thread: counted as a failure, kept, retried, landed once Redis takes it
      AtomicInteger landed = new AtomicInteger();
      try (AsyncFeatureWriter async =
          new AsyncFeatureWriter(
              new RedisFeatureWriter(stack.redisUri(), Duration.ofDays(1), meters),
              new FeatureMetrics(meters),
              1_000)) {
        async.submit(
            List.of(new FeatureWrite(bad, Map.of("n", "3"), 0)), w -> landed.incrementAndGet());
        // failed, kept, and failed again on its retry: never counted as landed
        Awaitility.await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> meters.counter("features.redis.write.failures").count() >= 2);
        assertThat(landed).hasValue(0);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> async.pending() == 1);

        redis.del(bad);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> landed.get() == 1);
        assertThat(redis.hgetAll(bad)).isEqualTo(Map.of("n", "3"));
        assertThat(redis.pttl(bad)).isPositive();
      }
    }
  }
}
