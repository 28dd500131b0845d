package io.feedrank.trainer.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.avro.serde.UnknownIdPatience;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LaggingRegistry;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The registry's writes on the real broker: the records of one decision (a promotion and the
 * archive of the version it replaces) land together or not at all, as a {@code read_committed}
 * reader sees them.
 */
@LocalStackTest
class KafkaModelRegistryIT {
  static final Instant T = Instant.parse("2026-12-06T00:00:00Z");

  @Test
  void aDecisionWhoseSecondRecordCannotBeWrittenLeavesNothingBehind(LocalStack stack) {
    String model = "registry-it-" + UUID.randomUUID();
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            stack.clientConfig(),
            serde.serializer(),
            serde.deserializer(),
            Topics.MODEL_REGISTRY)) {
      ModelVersion p1 = version(model, "p1", ModelStage.PRODUCTION, null);
      registry.publish(List.of(p1));
      // visible once the commit's markers are written, just after it returns
      await().atMost(Duration.ofSeconds(10)).until(() -> !registry.versions(model).isEmpty());

      // p2 promoted over p1, but the record archiving p1 is larger than a request may be
      ModelVersion p2 = version(model, "p2", ModelStage.PRODUCTION, "p1");
      ModelVersion archived =
          ModelVersion.newBuilder(p1)
              .setStage(ModelStage.ARCHIVED)
              .setMetrics(tooManyMetrics())
              .build();
      assertThatThrownBy(() -> registry.publish(List.of(p2, archived)))
          .hasMessageContaining("nothing of the 2 records");
      // neither landed: p1 is still the one production version, p2 unknown
      assertThat(registry.versions(model))
          .singleElement()
          .satisfies(
              v -> {
                assertThat(v.getVersion()).isEqualTo("p1");
                assertThat(v.getStage()).isEqualTo(ModelStage.PRODUCTION);
              });

      // the same decision with a record that fits: both, and the same registry writes on
      ModelVersion fits = ModelVersion.newBuilder(p1).setStage(ModelStage.ARCHIVED).build();
      registry.publish(List.of(p2, fits));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                Map<String, ModelStage> stages = new HashMap<>();
                registry.versions(model).forEach(v -> stages.put(v.getVersion(), v.getStage()));
                assertThat(stages)
                    .isEqualTo(Map.of("p1", ModelStage.ARCHIVED, "p2", ModelStage.PRODUCTION));
              });
    }
  }

  /**
   * Two decisions at once, as a run's and an operator's: while the run decides on p1 in production,
   * the operator promotes r1. The run's write is refused (its producer fenced by the operator's
   * opening), and it decides again on the state with r1: one production version at the end, r2,
   * replacing r1. Each deciding on the state it read alone would leave r1 and r2 both in
   * production.
   */
  @Test
  void twoDecisionsAtOnceAreWrittenOneAfterTheOther(LocalStack stack) {
    String model = "registry-it-" + UUID.randomUUID();
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry run = registry(stack, serde);
        KafkaModelRegistry operator = registry(stack, serde)) {
      run.publish(
          List.of(
              version(model, "p1", ModelStage.PRODUCTION, null),
              version(model, "r1", ModelStage.REJECTED, "p1"),
              version(model, "r2", ModelStage.REJECTED, "p1")));
      // written with publish's own transactional id: the decisions' writer does not wait for
      // its markers, so the test does
      await().atMost(Duration.ofSeconds(10)).until(() -> run.versions(model).size() == 3);
      List<List<String>> seen = new ArrayList<>();
      List<ModelVersion> written =
          run.update(
              model,
              current -> {
                seen.add(inProduction(current));
                if (seen.size() == 1) {
                  operator.update(model, now -> Promotion.promote(now, "r1", "by the operator", T));
                }
                return Promotion.promote(current, "r2", "by the run", T);
              });
      assertThat(seen).containsExactly(List.of("p1"), List.of("r1"));
      assertThat(written.get(0).getParentVersion()).isEqualTo("r1");
      Map<String, ModelStage> stages = new HashMap<>();
      run.versions(model).forEach(v -> stages.put(v.getVersion(), v.getStage()));
      assertThat(stages)
          .isEqualTo(
              Map.of(
                  "p1", ModelStage.ARCHIVED,
                  "r1", ModelStage.ARCHIVED,
                  "r2", ModelStage.PRODUCTION));
    }
  }

  /**
   * How a decision whose commit was reported refused tells that it landed after all (the
   * coordinator's answer lost, its retry refused for a later writer's epoch): every one of its
   * records is in the topic, even when a later record of the same version replaced it; none of a
   * transaction that did not commit is.
   */
  @Test
  void aDecisionHasLandedWhenEveryOneOfItsRecordsIsInTheTopic(LocalStack stack) {
    String model = "registry-it-" + UUID.randomUUID();
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry = registry(stack, serde)) {
      ModelVersion p1 = version(model, "p1", ModelStage.PRODUCTION, null);
      ModelVersion r1 = version(model, "r1", ModelStage.REJECTED, "p1");
      List<ModelVersion> decision = List.of(p1, r1);
      assertThat(registry.landed(model, decision)).isFalse();
      // a committed transaction is visible to read_committed readers once its markers are
      // written, just after the commit returns (update's next attempt waits for that: opening
      // the writer's producer again completes its transaction first)
      registry.publish(decision);
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.landed(model, decision));
      // p1 archived later: its production record is still in the topic
      ModelVersion archived = ModelVersion.newBuilder(p1).setStage(ModelStage.ARCHIVED).build();
      registry.publish(List.of(archived));
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.landed(model, List.of(archived)));
      assertThat(registry.landed(model, decision)).isTrue();
      // a record of the same version that was never written
      ModelVersion other = ModelVersion.newBuilder(r1).setDecisionReason("never sent").build();
      assertThat(registry.landed(model, List.of(p1, other))).isFalse();
      // nor are the records of a transaction that failed (one record too large for a request)
      ModelVersion r2 = version(model, "r2", ModelStage.REJECTED, "p1");
      ModelVersion tooLarge =
          ModelVersion.newBuilder(version(model, "r3", ModelStage.REJECTED, "p1"))
              .setMetrics(tooManyMetrics())
              .build();
      assertThatThrownBy(() -> registry.publish(List.of(r2, tooLarge)))
          .isInstanceOf(IllegalStateException.class);
      assertThat(registry.landed(model, List.of(r2))).isFalse();
    }
  }

  /**
   * The registry answers the first request for the records' schema id with a 404, as a replica that
   * has not read the schema yet does. The decision is made on a read that has the production
   * version: the record is read again, not skipped. It used to be skipped, and the decision made on
   * a registry without a production model, which promotes the candidate as the first model beside
   * the production one.
   */
  @Test
  void aSchemaIdTheRegistryDoesNotKnowYetIsReadAgainNotSkipped(LocalStack stack) throws Exception {
    String topic = newTopic(stack);
    String model = "registry-it-" + UUID.randomUUID();
    try (LaggingRegistry lagging = new LaggingRegistry(stack.registryUrl());
        KafkaModelRegistry lagged =
            readerThrough(stack, lagging, topic, UnknownIdPatience.DEFAULT)) {
      publishProductionAndCandidate(stack, topic, model);

      List<List<String>> seen = new ArrayList<>();
      lagged.update(
          model,
          current -> {
            seen.add(inProduction(current));
            return List.of();
          });

      assertThat(seen).containsExactly(List.of("p1"));
      int id =
          stack
              .registryClient()
              .lookup(topic + "-value", ModelVersion.getClassSchema())
              .orElseThrow();
      assertThat(lagging.schemaByIdCalls(id)).as("asked for schema id %d", id).isEqualTo(2);
    }
  }

  /**
   * A record whose schema id no registry knows (a producer without one) is read again until the id
   * has been unknown for the patience, then skipped: the read ends, with the versions before it.
   */
  @Test
  void aRecordOfASchemaIdNoRegistryKnowsIsSkippedAfterThePatience(LocalStack stack)
      throws Exception {
    String topic = newTopic(stack);
    String model = "registry-it-" + UUID.randomUUID();
    int foreign = 987_654_321;
    try (LaggingRegistry lagging = new LaggingRegistry(stack.registryUrl());
        KafkaModelRegistry reader = readerThrough(stack, lagging, topic, Duration.ofSeconds(2))) {
      // read back before the foreign record is written: the writer would wait out the default
      // patience
      publishProductionAndCandidate(stack, topic, model);
      try (KafkaProducer<String, byte[]> raw =
          new KafkaProducer<>(
              new HashMap<>(stack.clientConfig()),
              new StringSerializer(),
              new ByteArraySerializer())) {
        byte[] value = ByteBuffer.allocate(7).put((byte) 0).putInt(foreign).put((byte) 2).array();
        raw.send(new ProducerRecord<>(topic, model + "@foreign", value)).get();
      }

      assertThat(reader.versions(model))
          .extracting(v -> v.getVersion().toString())
          .containsExactlyInAnyOrder("p1", "c1");
      // 404 from the lagging replica, then from the registry itself
      assertThat(lagging.schemaByIdCalls(foreign)).as("asked for the foreign id").isGreaterThan(1);
    }
  }

  /**
   * On a broker that creates the topics clients ask about ({@code auto.create.topics.enable}, on by
   * default in Kafka; off in the local stack's own broker), a read of a registry whose topic is
   * missing says so and creates nothing. Created by the read, the topic would have the broker's
   * defaults: deleted by age, not compacted, and the registry's versions lost with it.
   */
  @Test
  void aMissingRegistryTopicIsNotCreatedByAReadOnABrokerThatCreatesTopics(LocalStack shared)
      throws Exception {
    String topic = "registry-it-missing-" + UUID.randomUUID();
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(shared.registryClient(), ModelVersion.class);
    try (LocalStack creating =
            LocalStack.builder().brokerConfig("auto.create.topics.enable", "true").build().start();
        KafkaModelRegistry registry =
            new KafkaModelRegistry(
                creating.clientConfig(), serde.serializer(), serde.deserializer(), topic)) {
      assertThatThrownBy(() -> registry.versions("m"))
          .hasMessageContaining("registry topic " + topic + " does not exist");
      try (Admin admin = creating.admin()) {
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain(topic);
      }
      // nor by the time of a second read, which would find it (a creation still under way)
      assertThatThrownBy(() -> registry.versions("m")).hasMessageContaining("does not exist");
    }
  }

  /**
   * Publishes p1 in production and its candidate c1 of {@code model} to {@code topic}, and reads
   * them back (through the stack's registry itself).
   */
  private static void publishProductionAndCandidate(LocalStack stack, String topic, String model)
      throws Exception {
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry writer =
        new KafkaModelRegistry(
            stack.clientConfig(), serde.serializer(), serde.deserializer(), topic)) {
      writer.publish(
          List.of(
              version(model, "p1", ModelStage.PRODUCTION, null),
              version(model, "c1", ModelStage.CANDIDATE, "p1")));
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.versions(model).size() == 2);
    }
  }

  /**
   * A registry of {@code topic} that reads its records' schemas through {@code lagging}, reading a
   * record of an unknown schema id again for {@code patience}.
   */
  private static KafkaModelRegistry readerThrough(
      LocalStack stack, LaggingRegistry lagging, String topic, Duration patience) {
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    return new KafkaModelRegistry(
        stack.clientConfig(),
        serde.serializer(),
        new AvroDeserializer<>(client(lagging), ModelVersion.class),
        topic,
        patience);
  }

  /** A client of the registry behind {@code lagging}, whose first answer for each id is 404. */
  private static HttpSchemaRegistryClient client(LaggingRegistry lagging) {
    return new HttpSchemaRegistryClient(RegistryConfig.of(lagging.url()));
  }

  private static String newTopic(LocalStack stack) throws Exception {
    String topic = "registry-it-" + UUID.randomUUID();
    try (Admin admin = stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    return topic;
  }

  private static List<String> inProduction(List<ModelVersion> versions) {
    return versions.stream()
        .filter(v -> v.getStage() == ModelStage.PRODUCTION)
        .map(ModelVersion::getVersion)
        .toList();
  }

  private static KafkaModelRegistry registry(LocalStack stack, AvroSerde<ModelVersion> serde) {
    return new KafkaModelRegistry(
        stack.clientConfig(), serde.serializer(), serde.deserializer(), Topics.MODEL_REGISTRY);
  }

  /** Metrics that make a record larger than a produce request may be. */
  private static Map<String, Double> tooManyMetrics() {
    Map<String, Double> huge = new HashMap<>();
    for (int i = 0; i < 100_000; i++) {
      huge.put("metric_" + i, (double) i);
    }
    return huge;
  }

  static ModelVersion version(String model, String v, ModelStage stage, String parent) {
    return ModelVersion.newBuilder(PromotionTest.version(v, stage, parent, T))
        .setModelName(model)
        .build();
  }
}
