package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.ChildReaper;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Kill the features app with SIGKILL in the middle of the stream (no close, open transactions,
 * Redis writes ahead of Kafka commits), start a new instance with the same application id and let
 * it finish: nothing lost, nothing counted twice, Redis equal to the recomputation.
 */
@LocalStackTest
class FeaturesCrashIT {
  static final int EVENTS = 60_000;
  static final int ITEMS = 3_000;

  @Test
  void anAbruptKillLosesNothingAndCountsNothingTwice(LocalStack stack) throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(11, 1_500, ITEMS, EVENTS);
    h.publishBadRecords(90);

    Map<String, String> config = new HashMap<>(h.properties());
    config.put("commit.interval.ms", "200");
    // commits run ahead of Redis writes, so the kill always leaves committed state that Redis
    // has not seen: the restarted app must still write it
    config.put("redis.flush.interval.ms", "1500");
    // a dead member leaves the group after 6 s instead of 45 s
    config.put("kafka.session.timeout.ms", "6000");
    config.put("kafka.heartbeat.interval.ms", "2000");
    Path props =
        Files.createDirectories(Paths.get("target", "streams-it"))
            .resolve(h.applicationId + ".properties");
    Properties p = new Properties();
    p.putAll(config);
    try (OutputStream out = Files.newOutputStream(props)) {
      p.store(out, null);
    }

    Process child =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                // the child's native libraries (RocksDB, lz4) unpack where the test JVM's do, under
                // target/: it is killed, so it never deletes them, and /tmp would keep them
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp",
                System.getProperty("java.class.path"),
                FeaturesChildApp.class.getName(),
                props.toString())
            .redirectErrorStream(true)
            .redirectOutput(Paths.get("target", "streams-it", h.applicationId + ".log").toFile())
            .start();
    // gone with this JVM, also when a CI timeout kills it before the finally below
    ChildReaper reaper = ChildReaper.watch(child);
    try {
      // let it commit part of the stream, then kill it mid-flight
      Awaitility.await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> committedExamples(stack, h) >= EVENTS / 3);
      child.destroyForcibly(); // SIGKILL: no close, no flush, no commit
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
      reaper.close();
    }
    long beforeRestart = committedExamples(stack, h);
    assertThat(beforeRestart).as("the crash happened mid-stream").isLessThan(EVENTS);

    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(config))) {
      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(EVENTS, Duration.ofMinutes(4));
      assertThat(examples).hasSize(EVENTS);
      FeaturesHarness.assertNoDuplicates(examples);
      assertThat(h.deadLetters(90)).hasSize(90);

      FeaturesHarness.Recomputed rc = h.recompute(EVENTS + 90, ITEMS);
      try (Jedis jedis = new Jedis(URI.create(stack.redisUri()))) {
        FeaturesHarness.awaitRedisMatches(rc, jedis::hgetAll);
      }
    }
  }

  /** Training examples committed so far (read_committed). */
  private static long committedExamples(LocalStack stack, FeaturesHarness h) {
    Map<String, Object> cc = new HashMap<>();
    cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "count-" + UUID.randomUUID());
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      var partitions =
          c.partitionsFor(h.topics.trainingExamples()).stream()
              .map(pi -> new org.apache.kafka.common.TopicPartition(pi.topic(), pi.partition()))
              .toList();
      return c.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum() > 0
          ? countCommitted(c, partitions)
          : 0;
    }
  }

  private static long countCommitted(
      KafkaConsumer<byte[], byte[]> c, List<org.apache.kafka.common.TopicPartition> partitions) {
    c.assign(partitions);
    c.seekToBeginning(partitions);
    Map<org.apache.kafka.common.TopicPartition, Long> end =
        c.endOffsets(partitions); // LSO under read_committed
    long n = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("training examples not read to their end within a minute");
      }
      n += c.poll(Duration.ofMillis(200)).count();
    }
    return n;
  }
}
