package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.streams.topology.InteractionsPartitioning;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.ThreadMetadata;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * Interactions on another partition than the one Kafka's Java producer picks for their key, against
 * the real broker, registry and Redis. A librdkafka client (confluent-kafka for Python or Go) with
 * its default partitioner, consistent_random, puts a key on CRC32 of its bytes modulo the count:
 * the app took such a record in the task of that partition, with a state of the user of its own,
 * and both tasks wrote {@code fr:u:{id}}, the later {@code _ts} winning — nothing dead-lettered.
 */
@LocalStackTest
class MisplacedInteractionsIT {
  static final long MINUTE = 60_000L;

  @Test
  void aClickOnItsCrc32PartitionIsDeadLetteredAndTheUserKeepsTheOther(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack, 4);
    int n = FeaturesHarness.PARTITIONS;
    long user = 1;
    while (crc32Partition(user, n) == murmur2Partition(user, n)) {
      user++;
    }
    int wrong = crc32Partition(user, n);
    int right = murmur2Partition(user, n);
    long t = System.currentTimeMillis() - 30 * MINUTE;
    String topic = h.topics.interactions();
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);

    try (Main.FeaturesApp app = Main.start(h.config());
        KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack);
        UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      h.sendClick(producer, ser, "java", user, 11, t, Device.MOBILE);
      // as confluent-kafka sends it by default, later: its _ts won
      ProducerRecord<byte[], byte[]> crc =
          new ProducerRecord<>(
              topic,
              wrong,
              FeaturesHarness.longBytes(user),
              ser.serialize(topic, click("python", user, t + MINUTE)));
      crc.headers().add("team", "py-recs".getBytes());
      producer.send(crc).get();

      List<ConsumerRecord<byte[], DeadLetter>> dead = deadLetters(stack, h, 1);
      assertThat(dead).hasSize(1);
      DeadLetter d = dead.get(0).value();
      assertThat(d.getErrorCode()).isEqualTo("WRONG_PARTITION");
      assertThat(d.getSourcePartition()).isEqualTo(wrong);
      assertThat(d.getErrorMessage())
          .startsWith(
              "record on partition "
                  + wrong
                  + ", but murmur2 of its key puts it on partition "
                  + right
                  + " of 4")
          .contains("partitioner=murmur2_random");
      // a producer's own header comes with its dead letter, to find a team's own
      assertThat(new String(dead.get(0).headers().lastHeader("team").value())).isEqualTo("py-recs");
      String key = "fr:u:" + user;
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "1".equals(redis.hget(key, "lifetime_events")));
      assertThat(redis.hget(key, "_ts")).isEqualTo(Long.toString(t));
    }
  }

  @Test
  void partitionsAddedWhileTheAppRunsStopItRatherThanDeadLetterValidEvents(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack, 2);
    // on partition 0 of 3, where a producer that has seen the new count sends it, but on 1 of 2
    // (from 2 to 4 none would be: a user on 0 or 1 of 4 is there of 2 too)
    long user = 1;
    while (murmur2Partition(user, 3) != 0 || murmur2Partition(user, 2) != 1) {
      user++;
    }
    long t = System.currentTimeMillis() - 30 * MINUTE;
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);

    Map<String, String> p = h.properties();
    // the failed thread's replacement waits for its session to expire: the app closes in time
    FeaturesHarness.replaceFailedThreadsSoon(p);

    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p));
        UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
        h.sendClick(producer, ser, "before", 1_000_000, 11, t, Device.MOBILE);
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> "1".equals(redis.hget("fr:u:1000000", "lifetime_events")));
      try (Admin admin = stack.admin()) {
        admin
            .createPartitions(Map.of(h.topics.interactions(), NewPartitions.increaseTo(3)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      // a producer started after the change partitions by the new count
      try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
        h.sendClick(producer, ser, "after", user, 11, t + MINUTE, Device.MOBILE);
      }

      // the stream thread that read it failed, and was replaced
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  app.streams().metadataForLocalThreads().stream()
                      .map(ThreadMetadata::threadName)
                      .anyMatch(name -> name.endsWith("-StreamThread-2")));
      assertThat(redis.exists("fr:u:" + user)).isFalse();
    }
    assertThat(deadLetters(stack, h, 0)).isEmpty();
  }

  private static InteractionEvent click(String id, long user, long at) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(12)
        .setEventTime(Instant.ofEpochMilli(at))
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(5f)
        .setDevice(Device.MOBILE)
        .build();
  }

  /** librdkafka's consistent_random for a key: CRC32 of its bytes modulo the count. */
  private static int crc32Partition(long user, int partitions) {
    CRC32 crc = new CRC32();
    crc.update(FeaturesHarness.longBytes(user));
    return (int) ((crc.getValue() & 0x7fffffff) % partitions);
  }

  private static int murmur2Partition(long user, int partitions) {
    return InteractionsPartitioning.javaPartition(FeaturesHarness.longBytes(user), partitions);
  }

  /**
   * The committed dead letters, once there are {@code expected}, or, for none expected, every one
   * up to the topic's end.
   */
  private static List<ConsumerRecord<byte[], DeadLetter>> deadLetters(
      LocalStack stack, FeaturesHarness h, int expected) {
    List<ConsumerRecord<byte[], DeadLetter>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], DeadLetter> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "dlq-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new ByteArrayDeserializer(),
            new AvroDeserializer<>(stack.registryClient(), DeadLetter.class))) {
      c.subscribe(List.of(h.topics.deadLetters()));
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected
                    && !c.assignment().isEmpty()
                    && c.assignment().stream()
                        .allMatch(
                            tp -> c.position(tp) >= c.endOffsets(List.of(tp)).getOrDefault(tp, 0L));
              });
    }
    return out;
  }
}
