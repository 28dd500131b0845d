package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * Real Redis expires a user's and an item's hashes {@code redis.ttl.seconds} after their latest
 * event; the ranker then reads nothing. The example of the next event, which comes later than the
 * TTL, has the features the ranker builds from what Redis holds at that moment (no hash: no state,
 * no profile, no metadata), not those of the stored history; and after it the hashes hold the
 * history again, with the profile and the metadata.
 */
@LocalStackTest
class ExpiredHashIT {
  static final long USER = 11;
  static final long ITEM = 111;
  static final long SECOND = 1_000L;

  @Test
  void theEventAfterItsEntitiesHashesExpiredIsTrainedOnWhatTheRankerServes(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    p.put("redis.ttl.seconds", "2");
    String userKey = "fr:u:" + USER;
    String itemKey = "fr:i:" + ITEM;
    Instant createdAt = Instant.parse("2026-01-01T00:00:00Z");
    publishProfileAndItem(stack, h, createdAt);
    AvroSerializer<InteractionEvent> events = new AvroSerializer<>(stack.registryClient(), true);
    long t1 = System.currentTimeMillis() - 60 * SECOND;
    long t2 = t1 + 10 * SECOND; // more than the TTL after the first
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack);
        Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
      h.sendClick(producer, events, "first", USER, ITEM, t1, Device.MOBILE);
      awaitEachHolds(
          redis,
          Map.of(
              userKey,
              Map.of("_ts", Long.toString(t1)),
              itemKey,
              Map.of("_ts", Long.toString(t1))));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !redis.exists(userKey) && !redis.exists(itemKey));
      Map<String, String> userHash = redis.hgetAll(userKey);
      Map<String, String> itemHash = redis.hgetAll(itemKey);
      assertThat(userHash).isEmpty();
      assertThat(itemHash).isEmpty();

      h.sendClick(producer, events, "second", USER, ITEM, t2, Device.MOBILE);
      // the history was kept, and the whole hashes, profile and metadata included, are back
      awaitEachHolds(
          redis,
          Map.of(
              userKey,
              Map.of(
                  "_ts",
                  Long.toString(t2),
                  "lifetime_events",
                  "2",
                  "country",
                  "FR",
                  "created_at",
                  Long.toString(createdAt.toEpochMilli())),
              itemKey,
              Map.of(
                  "_ts",
                  Long.toString(t2),
                  "lifetime_events",
                  "2",
                  "category",
                  "news",
                  "content_length",
                  "30")));
      // the ranker's rows over what Redis held: the example of the second event has them
      TrainingExample x =
          h.trainingExamples(2, Duration.ofSeconds(60)).stream()
              .map(ConsumerRecord::value)
              .filter(e -> e.getInteractionId().equals("second"))
              .findFirst()
              .orElseThrow();
      ServingFeatures served = new ServingFeatures(USER, userHash, t2, Device.MOBILE);
      float[] servedItem = new float[Vectorizer.ITEM_WIDTH];
      float[] servedCross = new float[Vectorizer.CROSS_WIDTH];
      served.item(ITEM, itemHash, servedItem, 0, servedCross, 0);
      assertThat(vector(x.getUserFeatures(), Vectorizer.USER_WIDTH, Vectorizer::user))
          .as("user row")
          .containsExactly(served.userVector());
      assertThat(vector(x.getItemFeatures(), Vectorizer.ITEM_WIDTH, Vectorizer::item))
          .as("item row")
          .containsExactly(servedItem);
      assertThat(vector(x.getCrossFeatures(), Vectorizer.CROSS_WIDTH, Vectorizer::cross))
          .as("cross row")
          .containsExactly(servedCross);

      for (String side : List.of("user", "item")) {
        assertThat(
                app.metrics()
                    .get("features.examples.expired.entity")
                    .tag("side", side)
                    .counter()
                    .count())
            .as(side)
            .isEqualTo(1.0);
      }
    }
  }

  /**
   * Waits until each key has been seen holding its fields. Each hash lives the TTL from its own
   * write, and the item's follows the user's through the repartition topic (by more than the TTL on
   * a busy machine), so they need not be seen together; and they are read as they land, before the
   * examples, whose reader takes seconds to join.
   */
  private static void awaitEachHolds(
      UnifiedJedis redis, Map<String, Map<String, String>> fieldsByKey) {
    Set<String> seen = new HashSet<>();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              fieldsByKey.forEach(
                  (key, fields) -> {
                    if (redis.hgetAll(key).entrySet().containsAll(fields.entrySet())) {
                      seen.add(key);
                    }
                  });
              return seen.equals(fieldsByKey.keySet());
            });
  }

  interface Vectorize {
    void into(double[] raw, float[] out, int off);
  }

  static float[] vector(List<Double> raw, int width, Vectorize v) {
    float[] out = new float[width];
    v.into(raw.stream().mapToDouble(Double::doubleValue).toArray(), out, 0);
    return out;
  }

  private static void publishProfileAndItem(LocalStack stack, FeaturesHarness h, Instant createdAt)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      UserProfile profile =
          UserProfile.newBuilder()
              .setUserId(USER)
              .setCountry("FR")
              .setPrimaryDevice(Device.MOBILE)
              .setCreatedAt(createdAt)
              .build();
      ItemMetadata item =
          ItemMetadata.newBuilder()
              .setItemId(ITEM)
              .setCategory("news")
              .setCreatedAt(createdAt)
              .setContentLength(30)
              .build();
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.users(),
                  FeaturesHarness.longBytes(USER),
                  new AvroSerializer<UserProfile>(stack.registryClient(), true)
                      .serialize(h.topics.users(), profile)))
          .get();
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.items(),
                  FeaturesHarness.longBytes(ITEM),
                  new AvroSerializer<ItemMetadata>(stack.registryClient(), true)
                      .serialize(h.topics.items(), item)))
          .get();
    }
  }
}
