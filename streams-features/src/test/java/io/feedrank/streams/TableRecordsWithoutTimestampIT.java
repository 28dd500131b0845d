package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.Device;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * A {@code users} or {@code items} record without a timestamp (-1: a producer of an old message
 * format, or a client that sets none) is applied to its table like any other. Kafka Streams refuses
 * such a record in a global table ("Malformed Record"), which failed the global thread and with it
 * the whole app; the app's global consumer now gives it the clock's time before Kafka Streams reads
 * it, while running and when the items table is rebuilt at the next start.
 */
@LocalStackTest
class TableRecordsWithoutTimestampIT {
  static final long USER = 9_100_001L;
  static final long ITEM = 9_100_002L;

  @Test
  void tableRecordsWithoutATimestampAreAppliedWhileRunningAndAfterARestart(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> app.streams().state() == KafkaStreams.State.RUNNING);
        produceWithoutTimestamps(stack, h);
        awaitInRedis(redis, app, "fr:u:" + USER, "country", "FR");
        awaitInRedis(redis, app, "fr:i:" + ITEM, "category", "no-timestamp");
      }
      // the items table is in memory, rebuilt from its topic at every start
      redis.del("fr:i:" + ITEM);
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        awaitInRedis(redis, app, "fr:i:" + ITEM, "category", "no-timestamp");
      }
    }
  }

  private static void awaitInRedis(
      UnifiedJedis redis, Main.FeaturesApp app, String key, String field, String value) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .failFast("the app failed", () -> app.failed().isDone())
        .untilAsserted(() -> assertThat(redis.hgetAll(key)).containsEntry(field, value));
    assertThat(app.failed()).isNotDone();
    assertThat(app.streams().state())
        .isNotIn(KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR);
  }

  /**
   * A user's profile and an item's metadata, each without a timestamp, checked as the broker has
   * them.
   */
  private static void produceWithoutTimestamps(LocalStack stack, FeaturesHarness h)
      throws Exception {
    UserProfile profile =
        UserProfile.newBuilder()
            .setUserId(USER)
            .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setCountry("FR")
            .setPrimaryDevice(Device.MOBILE)
            .build();
    ItemMetadata meta =
        ItemMetadata.newBuilder()
            .setItemId(ITEM)
            .setCategory("no-timestamp")
            .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setContentLength(42)
            .build();
    byte[] profileBytes =
        new AvroSerializer<UserProfile>(stack.registryClient(), true)
            .serialize(h.topics.users(), profile);
    byte[] metaBytes =
        new AvroSerializer<ItemMetadata>(stack.registryClient(), true)
            .serialize(h.topics.items(), meta);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", stack.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      check(
          stack,
          h.topics.users(),
          producer.send(withoutTimestamp(h.topics.users(), USER, profileBytes)).get());
      check(
          stack,
          h.topics.items(),
          producer.send(withoutTimestamp(h.topics.items(), ITEM, metaBytes)).get());
    }
  }

  /**
   * Kafka's Java producer refuses a negative timestamp in a {@link ProducerRecord} but sends the
   * one a record holds as it is, and -1 is the wire format's "no timestamp", which the broker
   * takes: the record is made with a timestamp, then given -1.
   */
  private static ProducerRecord<byte[], byte[]> withoutTimestamp(
      String topic, long key, byte[] value) throws ReflectiveOperationException {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, null, 0L, ByteBuffer.allocate(8).putLong(key).array(), value);
    Field timestamp = ProducerRecord.class.getDeclaredField("timestamp");
    timestamp.setAccessible(true);
    timestamp.set(r, -1L);
    return r;
  }

  /** The record the broker holds at {@code sent}'s offset has no timestamp. */
  private static void check(
      LocalStack stack, String topic, org.apache.kafka.clients.producer.RecordMetadata sent) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", stack.bootstrapServers()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, sent.partition());
      consumer.assign(List.of(tp));
      consumer.seek(tp, sent.offset());
      List<ConsumerRecord<byte[], byte[]>> got = List.of();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        got = consumer.poll(Duration.ofMillis(500)).records(tp);
      }
      assertThat(got).isNotEmpty();
      assertThat(got.get(0).timestamp()).isEqualTo(-1L);
    }
  }
}
