package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryClient.RegisteredSchema;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * On the real registry: the producers of {@code items} and {@code users} write schema versions of
 * their own (an older ItemMetadata, a newer UserProfile than the app's compiled ones), and the app,
 * with {@code auto.register.schemas=false}, reads them into its tables while it runs and when it
 * rebuilds the items table at its next start, with no version added to either subject. It used to
 * register its compiled schemas under both, whatever {@code auto.register.schemas} said (refused by
 * a registry credential that may only read, which failed the app at every start).
 */
@LocalStackTest
class TableSchemaVersionsIT {
  static final long USER = 9_200_001L;
  static final long ITEM = 9_200_002L;

  @Test
  void tableRecordsOfTheProducersSchemasAreReadAndTheirSubjectsGetNoVersion(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    SchemaRegistryClient registry = stack.registryClient();
    String items = h.topics.items() + "-value";
    String users = h.topics.users() + "-value";
    Schema olderItem = ProducerSchemas.withoutField(ItemMetadata.getClassSchema(), "creator_id");
    Schema newerProfile = ProducerSchemas.withLanguage(UserProfile.getClassSchema());
    int itemSchemaId = registry.register(items, olderItem);
    int profileSchemaId = registry.register(users, newerProfile);
    RegisteredSchema itemsBefore = registry.latest(items).orElseThrow();
    RegisteredSchema usersBefore = registry.latest(users).orElseThrow();
    // the outputs' schema and the event's, which the app only looks up
    registry.register(h.topics.trainingExamples() + "-value", TrainingExample.getClassSchema());
    registry.register(h.topics.interactions() + "-value", InteractionEvent.getClassSchema());
    produceTables(stack, h, itemSchemaId, olderItem, profileSchemaId, newerProfile);

    Map<String, String> p = h.properties();
    p.put("auto.register.schemas", "false");
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        sendEvent(stack, h);
        TrainingExample x = h.trainingExamples(1, Duration.ofSeconds(60)).get(0).value();
        assertThat(x.getItemCategory()).isEqualTo("gardening");
        awaitInRedis(redis, app, "fr:u:" + USER, "country", "PT");
        awaitInRedis(redis, app, "fr:i:" + ITEM, "content_length", "42");
      }
      // the items table is in memory, rebuilt from its topic at every start
      redis.del("fr:i:" + ITEM);
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        awaitInRedis(redis, app, "fr:i:" + ITEM, "category", "gardening");
      }
    }
    assertThat(registry.latest(items).orElseThrow()).isEqualTo(itemsBefore);
    assertThat(registry.latest(users).orElseThrow()).isEqualTo(usersBefore);
  }

  private static void awaitInRedis(
      UnifiedJedis redis, Main.FeaturesApp app, String key, String field, String value) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .failFast("the app failed", () -> app.failed().isDone())
        .untilAsserted(() -> assertThat(redis.hgetAll(key)).containsEntry(field, value));
    assertThat(app.streams().state())
        .isNotIn(KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR);
  }

  /** An item's metadata and a user's profile, in the producers' schemas. */
  private static void produceTables(
      LocalStack stack,
      FeaturesHarness h,
      int itemSchemaId,
      Schema itemSchema,
      int profileSchemaId,
      Schema profileSchema)
      throws Exception {
    var meta = new GenericData.Record(itemSchema);
    meta.put("item_id", ITEM);
    meta.put("category", "gardening");
    meta.put("created_at", Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());
    meta.put("content_length", 42);
    var profile = new GenericData.Record(profileSchema);
    profile.put("user_id", USER);
    profile.put("created_at", Instant.parse("2025-06-01T00:00:00Z").toEpochMilli());
    profile.put("country", "PT");
    profile.put(
        "primary_device",
        new GenericData.EnumSymbol(profileSchema.getField("primary_device").schema(), "TABLET"));
    profile.put("language", "pt");
    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.items(),
                  FeaturesHarness.longBytes(ITEM),
                  ProducerSchemas.wire(itemSchemaId, meta)))
          .get();
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.users(),
                  FeaturesHarness.longBytes(USER),
                  ProducerSchemas.wire(profileSchemaId, profile)))
          .get();
    }
  }

  private static void sendEvent(LocalStack stack, FeaturesHarness h) throws Exception {
    InteractionEvent e =
        InteractionEvent.newBuilder()
            .setInteractionId("table-schemas")
            .setUserId(USER)
            .setItemId(ITEM)
            .setEventTime(Instant.now())
            .setClick(true)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(12f)
            .build();
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), false);
    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.interactions(),
                  FeaturesHarness.longBytes(USER),
                  ser.serialize(h.topics.interactions(), e)))
          .get();
    }
  }
}
