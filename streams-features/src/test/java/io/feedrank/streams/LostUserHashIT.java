package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * Redis lost a user's hash, and the user's next write carries only the category its event touched.
 * The app that finds the hash gone stops cleanly before its next flush, which would have had the
 * user written whole: the app that starts next still writes the user whole. The repair was decided
 * in memory, at the flush after the partial write: lost at the stop, the next write found the hash
 * the partial write had recreated and was taken as normal, and the user's other categories stayed
 * out of Redis until their next event.
 */
@LocalStackTest
class LostUserHashIT {
  static final long USER = 7;
  static final long NEWS_ITEM = 71;
  static final long SPORTS_ITEM = 72;
  static final long MINUTE = 60_000L;

  @Test
  void aUserWhoseHashRedisLostIsWrittenWholeThoughTheAppStopsBeforeTheRepair(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    FeaturesHarness.replaceFailedThreadsSoon(p); // each start waits for the last one's session
    String key = "fr:u:" + USER;
    long t = System.currentTimeMillis() - 60 * MINUTE;
    AvroSerializer<InteractionEvent> events = new AvroSerializer<>(stack.registryClient(), true);
    publishItems(stack, h);

    Map<String, String> before;
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2));
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                Map.of("bootstrap.servers", stack.bootstrapServers()),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        h.sendClick(producer, events, "sports", USER, SPORTS_ITEM, t, Device.UNKNOWN);
        h.sendClick(producer, events, "news", USER, NEWS_ITEM, t + 10 * MINUTE, Device.UNKNOWN);
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    redis.hexists(key, "c.news._ts")
                        && redis.hexists(key, "c.sports._ts")
                        && "2".equals(redis.hget(key, "lifetime_events")));
        // no longer pending: the next write carries only what the next event touches
        awaitNoLongerPending(stack, h);
        before = redis.hgetAll(key);
      }

      redis.del(key); // Redis lost it
      // a long flush interval: the app stops after the write that finds the hash gone, before the
      // flush after it
      Map<String, String> slow = new HashMap<>(p);
      slow.put("redis.flush.interval.ms", "5000");
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(slow))) {
        h.sendClick(
            producer, events, "news-again", USER, NEWS_ITEM, t + 20 * MINUTE, Device.UNKNOWN);
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> redis.exists(key) || refused(app) > 0);
      }

      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        Map<String, String> sports = new HashMap<>();
        before.forEach(
            (k, v) -> {
              if (k.startsWith("c.sports.")) {
                sports.put(k, v);
              }
            });
        assertThat(sports).hasSize(6);
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(redis.hgetAll(key))
                        .containsAllEntriesOf(sports)
                        .containsEntry("lifetime_events", "3")
                        .containsEntry("_ts", Long.toString(t + 20 * MINUTE)));
      }
    }
  }

  private static double refused(Main.FeaturesApp app) {
    Counter c = app.metrics().find("features.redis.write.refused").counter();
    return c == null ? 0 : c.count();
  }

  private static void publishItems(LocalStack stack, FeaturesHarness h) throws Exception {
    AvroSerializer<ItemMetadata> ser = new AvroSerializer<>(stack.registryClient(), true);
    try (KafkaProducer<Long, byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", stack.bootstrapServers()),
            new LongSerializer(),
            new ByteArraySerializer())) {
      for (var item : Map.of(NEWS_ITEM, "news", SPORTS_ITEM, "sports").entrySet()) {
        ItemMetadata m =
            ItemMetadata.newBuilder()
                .setItemId(item.getKey())
                .setCategory(item.getValue())
                .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z"))
                .setContentLength(30)
                .build();
        producer
            .send(
                new ProducerRecord<>(
                    h.topics.items(), item.getKey(), ser.serialize(h.topics.items(), m)))
            .get();
      }
    }
  }

  /** Waits for the user's tombstone in the changelog of the users' pending store. */
  private static void awaitNoLongerPending(LocalStack stack, FeaturesHarness h) {
    Map<String, Object> cc = new HashMap<>();
    cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "pending-" + UUID.randomUUID());
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<Long, byte[]> c =
        new KafkaConsumer<>(cc, new LongDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(h.applicationId + "-user-redis-pending-changelog"));
      Map<Long, byte[]> latest = new HashMap<>();
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
                return latest.containsKey(USER) && latest.get(USER) == null;
              });
    }
  }
}
