package io.feedrank.drift;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RankingLog;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.models.profile.TrainingProfiles;
import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Per-test topics, simulated examples, a registered reference, and reading the job's outputs. */
final class DriftHarness {
  final LocalStack stack;
  final String id;
  final String model;

  DriftHarness(LocalStack stack, String name) {
    this.stack = stack;
    this.id = name + "-" + System.nanoTime();
    this.model = "drift-" + id;
    stack.createTopics(
        List.of(
            spec(Topics.TRAINING_EXAMPLES).renamed(topic("examples")),
            spec(Topics.RANKING_LOGS).renamed(topic("logs")),
            spec(Topics.INTERACTIONS).renamed(topic("interactions")),
            spec(Topics.DRIFT_REPORTS).renamed(topic("reports")),
            spec(Topics.ALERTS).renamed(topic("alerts")),
            spec(Topics.RETRAIN_COMMANDS).renamed(topic("commands")),
            spec(Topics.ONLINE_CTR).renamed(topic("ctr"))));
  }

  static Topics.TopicSpec spec(String name) {
    return Topics.byName(name).orElseThrow();
  }

  String topic(String what) {
    return what + "-" + id;
  }

  static Instant recentHour() {
    return Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
  }

  /**
   * 20 events per event-second before the simulator's diurnal curve (0.45–1 of it): a 1-minute
   * window holds 540–1,200 examples, whatever hour the test runs at.
   */
  static SimulatorConfig world(long seed, Instant start) {
    return SimulatorConfig.defaults(seed, start)
        .withPopulation(2_000, 5_000)
        .withEventsPerEventSecond(20);
  }

  /** The simulator's examples up to event time {@code until}. */
  static List<TrainingExample> examples(SimulatorConfig c, Instant until) {
    List<TrainingExample> out = new ArrayList<>();
    SimulatedExamples s = new SimulatedExamples(c, Long.MAX_VALUE);
    while (true) {
      TrainingExample e = s.next();
      if (!e.getEventTime().isBefore(until)) {
        return out;
      }
      out.add(e);
    }
  }

  static int firstAtOrAfter(List<TrainingExample> examples, Instant t) {
    int i = 0;
    while (i < examples.size() && examples.get(i).getEventTime().isBefore(t)) {
      i++;
    }
    return i;
  }

  /** The serving model: PRODUCTION with the profile of {@code reference} (no scores). */
  /** The version {@link #registerReference} makes production. */
  static final String REFERENCE_VERSION = "ref-1";

  void registerReference(List<TrainingExample> reference) {
    registerReference(reference, null);
  }

  /**
   * The serving model: PRODUCTION with the profile of {@code reference} and, unless null, of the
   * model's {@code scores} on it (one per example).
   */
  void registerReference(List<TrainingExample> reference, float[] scores) {
    Instant now = Instant.now();
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName(model)
            .setVersion(REFERENCE_VERSION)
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(now)
            .setUpdatedAt(now)
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(1)
            .setReferenceProfile(TrainingProfiles.of(reference, scores))
            .build();
    send(Topics.MODEL_REGISTRY, Topics.modelRegistryKey(model, REFERENCE_VERSION), v);
  }

  void publish(List<TrainingExample> examples) {
    publish(
        "examples",
        new LongSerializer(),
        examples,
        TrainingExample::getUserId,
        e -> e.getEventTime().toEpochMilli());
  }

  /** Publishes responses to this test's {@code ranking-logs}, keyed by request id. */
  void publishLogs(List<RankingLog> logs) {
    publish(
        "logs",
        new StringSerializer(),
        logs,
        RankingLog::getRequestId,
        l -> l.getTimestamp().toEpochMilli());
  }

  /** Publishes {@code values} to this test's topic {@code what}, in order, with their keys. */
  <K, T extends SpecificRecord> void publish(
      String what, Serializer<K> keys, List<T> values, Function<T, K> key, Function<T, Long> time) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    AvroSerializer<T> serializer = new AvroSerializer<>();
    serializer.configure(p, false);
    try (KafkaProducer<K, T> producer = new KafkaProducer<>(p, keys, serializer)) {
      for (T v : values) {
        producer.send(new ProducerRecord<>(topic(what), null, time.apply(v), key.apply(v), v));
      }
    }
  }

  private <T extends SpecificRecord> void send(String topic, String key, T value) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    AvroSerializer<T> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<String, T> producer =
        new KafkaProducer<>(p, new StringSerializer(), values)) {
      producer.send(new ProducerRecord<>(topic, key, value));
    }
  }

  /** The job's configuration for this test: bounded, from the beginning, 1-minute windows. */
  Map<String, String> config() {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("model.name", model);
    c.put("training.examples.topic", topic("examples"));
    c.put("ranking.logs.topic", topic("logs"));
    c.put("interactions.topic", topic("interactions"));
    c.put("drift.reports.topic", topic("reports"));
    c.put("alerts.topic", topic("alerts"));
    c.put("retrain.commands.topic", topic("commands"));
    c.put("online.ctr.topic", topic("ctr"));
    c.put("group.id", "drift-it-" + id);
    c.put("from.earliest", "true");
    c.put("bounded", "true");
    c.put("window.ms", "60000");
    c.put("min.sample", "300");
    c.put("out.of.orderness.ms", "5000");
    c.put("checkpoint.interval.ms", "1000");
    c.put("parallelism", "2");
    return c;
  }

  /** Every committed record of one of this test's output topics. */
  <T extends SpecificRecord> List<T> read(String what, Class<T> type) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put("isolation.level", "read_committed");
    p.put(AvroDeserializer.VALUE_TYPE, type.getName());
    AvroDeserializer<T> values = new AvroDeserializer<>();
    values.configure(p, false);
    List<T> out = new ArrayList<>();
    try (KafkaConsumer<byte[], T> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), values)) {
      List<TopicPartition> parts =
          c.partitionsFor(topic(what)).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic(what) + " to its end");
        }
        for (ConsumerRecord<byte[], T> r : c.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }
}
