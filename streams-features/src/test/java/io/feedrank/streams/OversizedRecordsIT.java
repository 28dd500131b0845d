package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.UnifiedJedis;

/**
 * Records near the producer's size limit, on the real broker: one the registry cannot read, whose
 * dead letter (the raw bytes plus the reason) would be larger than the limit, and one that is valid
 * Avro with an interaction_id so long that its training example would be. Each once failed the
 * stream thread at every replay, and the partition's later events never came out. Now both are
 * dead-lettered and the next event of the same partition is processed. And items whose categories
 * would make a user's state too large to commit.
 */
@LocalStackTest
@ExtendWith(StreamThreadsMayFail.class)
class OversizedRecordsIT {
  static final int LIMIT = 100_000;

  @Test
  void recordsTooLargeToPassOnAreDeadLetteredAndThePartitionGoesOn(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    p.put("kafka.producer.max.request.size", Integer.toString(LIMIT));
    FeaturesHarness.replaceFailedThreadsSoon(p);
    long user = 7;
    Instant t = Instant.parse("2026-11-02T06:00:00Z");
    byte[] garbage = new byte[LIMIT - 200];
    new Random(5).nextBytes(garbage);
    garbage[0] = 9; // not the wire format's magic byte
    InteractionEvent longId = event(user, "x".repeat(LIMIT - 1_000), t);
    InteractionEvent after = event(user, "after", t.plusSeconds(60));

    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
      AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", stack.bootstrapServers()),
              new ByteArraySerializer(),
              new ByteArraySerializer())) {
        // one key: one partition, in this order
        byte[] key = ByteBuffer.allocate(8).putLong(user).array();
        String topic = h.topics.interactions();
        producer.send(new ProducerRecord<>(topic, null, t.toEpochMilli(), key, garbage)).get();
        producer
            .send(
                new ProducerRecord<>(
                    topic, null, t.toEpochMilli(), key, ser.serialize(topic, longId)))
            .get();
        producer
            .send(
                new ProducerRecord<>(
                    topic,
                    null,
                    after.getEventTime().toEpochMilli(),
                    key,
                    ser.serialize(topic, after)))
            .get();
      }

      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(1, Duration.ofSeconds(60));
      assertThat(examples).hasSize(1);
      assertThat(examples.get(0).value().getInteractionId()).isEqualTo("after");

      List<DeadLetter> dead = h.deadLetters(2);
      dead.sort(Comparator.comparingLong(DeadLetter::getSourceOffset));
      assertThat(dead)
          .extracting(DeadLetter::getErrorCode)
          .containsExactly("DESERIALIZATION", "ID_TOO_LONG");
      DeadLetter cut = dead.get(0);
      byte[] kept = bytes(cut.getRawValue());
      assertThat(kept.length).isLessThan(garbage.length);
      assertThat(kept).isEqualTo(Arrays.copyOf(garbage, kept.length));
      assertThat(cut.getErrorMessage())
          .contains("of their 8 and " + garbage.length + " bytes")
          .contains(h.topics.interactions() + "-");
      assertThat(dead.get(1).getErrorMessage())
          .contains("interaction_id has " + longId.getInteractionId().length() + " characters");
      assertThat(app.failed()).isNotDone();
    }
  }

  /**
   * Items whose categories are each well within the limit, but two of which make a user's state
   * (which keeps every category the user has seen, in its changelog record) larger than it: the
   * state could never be committed, and the user's partition stopped at that event for good. Now
   * such an item is kept with no category, counted and logged, and the events of the partition come
   * out as training examples.
   */
  @Test
  void itemsWithCategoriesTooLongAreKeptWithoutOneAndThePartitionGoesOn(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    p.put("kafka.producer.max.request.size", Integer.toString(LIMIT));
    FeaturesHarness.replaceFailedThreadsSoon(p);
    long user = 7;
    Instant t = Instant.parse("2026-11-02T06:00:00Z");
    int longBytes = LIMIT * 6 / 10; // two of them are more than the limit
    List<ItemMetadata> catalog =
        List.of(
            item(101, "a".repeat(longBytes), t),
            item(102, "b".repeat(longBytes), t),
            item(103, "news", t));
    AvroSerializer<ItemMetadata> items = new AvroSerializer<>(stack.registryClient(), true);
    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      for (ItemMetadata m : catalog) {
        producer
            .send(
                new ProducerRecord<>(
                    h.topics.items(),
                    FeaturesHarness.longBytes(m.getItemId()),
                    items.serialize(h.topics.items(), m)))
            .get();
      }
    }

    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
      AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
      try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
        String topic = h.topics.interactions();
        for (int i = 0; i < catalog.size(); i++) {
          InteractionEvent e =
              InteractionEvent.newBuilder(event(user, "seen-" + i, t.plusSeconds(60L * (i + 1))))
                  .setItemId(catalog.get(i).getItemId())
                  .build();
          producer
              .send(
                  new ProducerRecord<>(
                      topic,
                      null,
                      e.getEventTime().toEpochMilli(),
                      FeaturesHarness.longBytes(user),
                      ser.serialize(topic, e)))
              .get();
        }
      }

      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(3, Duration.ofSeconds(60));
      assertThat(examples)
          .extracting(r -> r.value().getInteractionId(), r -> r.value().getItemCategory())
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple("seen-0", ""),
              org.assertj.core.groups.Tuple.tuple("seen-1", ""),
              org.assertj.core.groups.Tuple.tuple("seen-2", "news"));
      assertThat(app.failed()).isNotDone();
      try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  assertThat(redis.hget("fr:i:101", "category")).isEmpty();
                  assertThat(redis.hget("fr:i:103", "category")).isEqualTo("news");
                  assertThat(redis.hkeys("fr:u:" + user))
                      .filteredOn(k -> k.startsWith("c."))
                      .isNotEmpty()
                      .allMatch(k -> k.startsWith("c.news."));
                });
      }
      // each of the two records read once, as the items table was restored at the start
      assertThat(scraped(app.metrics().scrape(), "features_items_category_too_long_total"))
          .isEqualTo(2.0);
    }
  }

  private static ItemMetadata item(long id, String category, Instant createdAt) {
    return ItemMetadata.newBuilder()
        .setItemId(id)
        .setCategory(category)
        .setCreatedAt(createdAt.minusSeconds(86_400))
        .setContentLength(30)
        .build();
  }

  /** The sum of a meter's samples in a Prometheus scrape. */
  private static double scraped(String scrape, String name) {
    return scrape
        .lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static InteractionEvent event(long user, String id, Instant at) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(3)
        .setEventTime(at)
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(4f)
        .build();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
