package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.streams.topology.InteractionsPartitioning;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.TaskId;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * Two instances with a standby replica each: tasks move from A to B, where A keeps them as
 * standbys, and back to A when B leaves. Kafka Streams recycles A's stores both times instead of
 * closing them, and restores B's changes into them; the users' state A held in memory from before
 * the move was taken up again, so their next event was added to the state as of the move, and Redis
 * lost every event B had processed.
 */
@LocalStackTest
class RecycledTasksIT {
  /** Two users on each of the 4 partitions (by their key's murmur2, where the app expects them). */
  static final List<Long> USERS =
      LongStream.rangeClosed(1, 100)
          .boxed()
          .collect(
              Collectors.groupingBy(
                  u -> InteractionsPartitioning.javaPartition(key(u), FeaturesHarness.PARTITIONS)))
          .values()
          .stream()
          .flatMap(users -> users.stream().limit(2))
          .toList();

  @Test
  void aTaskThatMovesToAnotherInstanceAndBackKeepsEveryEvent(LocalStack stack) throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    p.put("kafka.num.standby.replicas", "1");
    Map<String, String> pa = new HashMap<>(p);
    pa.put("state.dir", h.stateDir.resolve("a").toString());
    Map<String, String> pb = new HashMap<>(p);
    pb.put("state.dir", h.stateDir.resolve("b").toString());
    long t0 = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();

    try (Main.FeaturesApp a = Main.start(FeaturesConfig.from(pa));
        UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                Map.of("bootstrap.servers", stack.bootstrapServers()),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
      AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
      send(h, producer, ser, t0, 3);
      awaitUsers(redis, t0 + 2, 3);

      Set<TaskId> moved;
      try (Main.FeaturesApp b = Main.start(FeaturesConfig.from(pb))) {
        // B's state is within acceptable.recovery.lag of the changelogs' ends: caught up at once,
        // so half of A's active tasks move to it, and A keeps them as standbys
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  Set<TaskId> onB = tasks(b, true);
                  return running(a)
                      && running(b)
                      && !onB.isEmpty()
                      && tasks(a, false).containsAll(onB);
                });
        moved = tasks(b, true);
        assertThat(b.streams().metadataForLocalThreads())
            .flatMap(ThreadMetadata::activeTasks)
            .flatMap(TaskMetadata::topicPartitions)
            .as("users' tasks moved to B")
            .anyMatch(tp -> tp.topic().equals(h.topics.interactions()));

        send(h, producer, ser, t0 + 10, 3);
        awaitUsers(redis, t0 + 12, 6);
        // leaving the group, its tasks go back to A at once, not after B's session timeout
        b.streams()
            .close(
                CloseOptions.groupMembershipOperation(
                        CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30)));
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> running(a) && tasks(a, true).containsAll(moved));

      send(h, producer, ser, t0 + 20, 1);
      awaitUsers(redis, t0 + 20, 7);
    }
  }

  /**
   * {@code n} events per user at {@code t}, {@code t + 1}, ... ms: every task of the users' side
   * has some.
   */
  private static void send(
      FeaturesHarness h,
      KafkaProducer<byte[], byte[]> producer,
      AvroSerializer<InteractionEvent> ser,
      long t,
      int n)
      throws Exception {
    String topic = h.topics.interactions();
    for (long u : USERS) {
      for (int i = 0; i < n; i++) {
        InteractionEvent e =
            InteractionEvent.newBuilder()
                .setInteractionId(u + "-" + (t + i))
                .setUserId(u)
                .setItemId(100 + u)
                .setEventTime(Instant.ofEpochMilli(t + i))
                .setClick(i % 2 == 0)
                .setLike(false)
                .setShare(false)
                .setDwellSeconds(3f)
                .build();
        producer.send(new ProducerRecord<>(topic, key(u), ser.serialize(topic, e)));
      }
    }
    producer.flush();
  }

  /**
   * Waits until every user's and item's hash is at {@code ts}, then checks it counts {@code
   * events}: a hash written from a state that lost events has the latest {@code _ts} all the same.
   */
  private static void awaitUsers(UnifiedJedis redis, long ts, int events) {
    for (long u : USERS) {
      for (String key : new String[] {"fr:u:" + u, "fr:i:" + (100 + u)}) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> Long.toString(ts).equals(redis.hget(key, "_ts")));
        assertThat(redis.hget(key, "lifetime_events")).as(key).isEqualTo(Integer.toString(events));
      }
    }
  }

  private static byte[] key(long user) {
    return ByteBuffer.allocate(8).putLong(user).array();
  }

  private static boolean running(Main.FeaturesApp app) {
    return app.streams().state() == KafkaStreams.State.RUNNING;
  }

  private static Set<TaskId> tasks(Main.FeaturesApp app, boolean active) {
    return app.streams().metadataForLocalThreads().stream()
        .flatMap((ThreadMetadata t) -> (active ? t.activeTasks() : t.standbyTasks()).stream())
        .map(TaskMetadata::taskId)
        .collect(Collectors.toSet());
  }
}
