package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.TcpGate;
import io.micrometer.core.instrument.Counter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The features app cut off from the real schema registry (a {@link TcpGate} in between) when
 * interactions arrive written with a schema version it has not read yet: they wait for the registry
 * instead of going to the dead letters, and every one becomes a training example once the registry
 * answers again.
 */
@LocalStackTest
@ExtendWith(StreamThreadsMayFail.class)
class RegistryOutageIT {
  static final int EVENTS = 2_000;
  static final int NEW = 40;

  @Test
  void interactionsOfANewSchemaVersionWaitForTheRegistryInsteadOfBeingDeadLettered(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(11, 200, 500, EVENTS);
    URI registry = URI.create(stack.registryUrl());
    try (TcpGate gate = new TcpGate(registry.getHost(), registry.getPort())) {
      Map<String, String> p = behind(gate, h, registry);
      FeaturesHarness.replaceFailedThreadsSoon(p);
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        assertThat(h.trainingExamples(EVENTS, Duration.ofMinutes(2))).hasSize(EVENTS);

        List<ProducerRecord<byte[], byte[]>> records = ofANewVersion(stack, h);

        gate.shut();
        send(stack, records);
        Counter unavailable = app.metrics().get("features.registry.unavailable").counter();
        // it asked, its thread failed and was replaced, and the replacement asked again
        Awaitility.await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> unavailable.count() >= 2 && gate.refused() >= 2);
        assertThat(deadLettered(app)).isZero();

        gate.open();
        List<ConsumerRecord<Long, TrainingExample>> examples =
            h.trainingExamples(EVENTS + NEW, Duration.ofMinutes(2));
        assertThat(examples).hasSize(EVENTS + NEW);
        FeaturesHarness.assertNoDuplicates(examples);
        Set<String> ids =
            examples.stream().map(r -> r.value().getInteractionId()).collect(Collectors.toSet());
        for (ProducerRecord<byte[], byte[]> r : records) {
          assertThat(ids).contains(new String(r.headers().lastHeader("id").value()));
        }
        assertThat(deadLettered(app)).isZero();
        assertThat(app.metrics().get("features.events.processed").counter().count())
            .isEqualTo(EVENTS + NEW);
        assertThat(app.failed()).isNotDone();
      }
    }
  }

  /**
   * With {@code schema.registry.max.retries} raised, the stream thread waits out a longer outage in
   * place: it is not failed, so no replacement has to wait for the failed member's session to
   * expire (45 s by default, as here) before it gets the partitions back.
   */
  @Test
  void anOutageWithinTheConfiguredRetriesIsWaitedOutWithoutFailingTheThread(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(13, 200, 500, EVENTS);
    URI registry = URI.create(stack.registryUrl());
    try (TcpGate gate = new TcpGate(registry.getHost(), registry.getPort())) {
      Map<String, String> p = behind(gate, h, registry);
      // backoffs 0.1, 0.2, 0.4, 0.8, 1.6, then 2 s: 9.1 s of retries, against 3.1 s by default
      p.put("schema.registry.max.retries", "8");
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        assertThat(h.trainingExamples(EVENTS, Duration.ofMinutes(2))).hasSize(EVENTS);
        List<ProducerRecord<byte[], byte[]>> records = ofANewVersion(stack, h);

        gate.shut();
        send(stack, records);
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> gate.refused() >= 1);
        Counter unavailable = app.metrics().get("features.registry.unavailable").counter();
        // longer than the default retries: with them, the thread would have failed by now
        Awaitility.await()
            .during(Duration.ofMillis(4_500))
            .atMost(Duration.ofSeconds(6))
            .until(() -> unavailable.count() == 0);
        gate.open();

        List<ConsumerRecord<Long, TrainingExample>> examples =
            h.trainingExamples(EVENTS + NEW, Duration.ofSeconds(40));
        assertThat(examples).hasSize(EVENTS + NEW);
        FeaturesHarness.assertNoDuplicates(examples);
        assertThat(unavailable.count()).isZero();
        assertThat(deadLettered(app)).isZero();
      }
    }
  }

  @Test
  void anItemOfANewSchemaVersionFailsTheAppForGoodInsteadOfBeingLeftOutOfTheTable(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(12, 50, 100, 200);
    URI registry = URI.create(stack.registryUrl());
    try (TcpGate gate = new TcpGate(registry.getHost(), registry.getPort())) {
      Map<String, String> p = behind(gate, h, registry);
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        assertThat(h.trainingExamples(200, Duration.ofMinutes(2))).hasSize(200);

        Schema next = withOptionalString(ItemMetadata.getClassSchema(), "experiment");
        int nextId = stack.registryClient().register(h.topics.items() + "-value", next);
        ItemMetadata item = read(h, h.topics.items(), ItemMetadata.class, 1).get(0);

        gate.shut();
        send(
            stack,
            List.of(
                new ProducerRecord<>(
                    h.topics.items(), longKey(item.getItemId()), withNullLastField(item, nextId))));
        // the items table's thread cannot be replaced: the app stops, to be restarted, rather
        // than run on without the update (a skipped record would never be read again)
        app.failed().get(90, TimeUnit.SECONDS);
        assertThat(app.streams().state()).isEqualTo(KafkaStreams.State.ERROR);
      }
    }
  }

  /** The app's properties with the registry reached through {@code gate}. */
  private static Map<String, String> behind(TcpGate gate, FeaturesHarness h, URI registry) {
    Map<String, String> p = h.properties();
    p.put("schema.registry.url", "http://127.0.0.1:" + gate.port() + registry.getPath());
    return p;
  }

  /**
   * {@link #newerEvents} of an app's next version of the event: one more optional field, registered
   * while the registry is reachable; the features app has not read a record of it yet.
   */
  private static List<ProducerRecord<byte[], byte[]>> ofANewVersion(
      LocalStack stack, FeaturesHarness h) throws Exception {
    Schema next = withOptionalString(InteractionEvent.getClassSchema(), "experiment");
    return newerEvents(
        h, stack.registryClient().register(h.topics.interactions() + "-value", next));
  }

  /** {@code schema} with one more field, an optional string (null by default), last. */
  private static Schema withOptionalString(Schema schema, String name) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(
        new Schema.Field(
            name,
            Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
            null,
            JsonProperties.NULL_VALUE));
    return Schema.createRecord(
        schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
  }

  /**
   * {@link #NEW} interactions of the simulated users and items, after every simulated one, written
   * with the schema {@code schemaId}. Each carries its interaction id in an {@code id} header.
   */
  private static List<ProducerRecord<byte[], byte[]>> newerEvents(FeaturesHarness h, int schemaId)
      throws Exception {
    List<InteractionEvent> seen = read(h, h.topics.interactions(), InteractionEvent.class, EVENTS);
    long last = seen.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (int i = 0; i < NEW; i++) {
      String id = "after-the-outage-" + i;
      InteractionEvent e =
          InteractionEvent.newBuilder(seen.get(i))
              .setInteractionId(id)
              .setEventTime(Instant.ofEpochMilli(last + 1 + i))
              .build();
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>(
              h.topics.interactions(),
              null,
              e.getEventTime().toEpochMilli(),
              longKey(e.getUserId()),
              withNullLastField(e, schemaId));
      r.headers().add("id", id.getBytes());
      out.add(r);
    }
    return out;
  }

  /**
   * {@code record} in the wire format under {@code schemaId}, a schema of {@link
   * #withOptionalString}: the record's own body, then the new last field's null (its union branch
   * 0, one zero byte).
   */
  private static <T extends SpecificRecord> byte[] withNullLastField(T record, int schemaId)
      throws IOException {
    @SuppressWarnings("unchecked")
    SpecificDatumWriter<T> writer = new SpecificDatumWriter<>((Class<T>) record.getClass());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(body, null);
    writer.write(record, enc);
    enc.flush();
    byte[] b = body.toByteArray();
    return ByteBuffer.allocate(5 + b.length + 1)
        .put((byte) 0)
        .putInt(schemaId)
        .put(b)
        .put((byte) 0)
        .array();
  }

  /** The values of the first {@code n} records of a topic, read with the real registry. */
  private static <T extends SpecificRecord> List<T> read(
      FeaturesHarness h, String topic, Class<T> type, int n) {
    return h
        .readAll(
            topic,
            new AvroDeserializer<>(h.stack.registryClient(), type),
            n,
            Duration.ofSeconds(60))
        .stream()
        .map(ConsumerRecord::value)
        .toList();
  }

  private static byte[] longKey(long id) {
    return ByteBuffer.allocate(8).putLong(id).array();
  }

  private static void send(LocalStack stack, List<ProducerRecord<byte[], byte[]>> records)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", stack.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        p.send(r).get();
      }
    }
  }

  private static double deadLettered(Main.FeaturesApp app) {
    return app.metrics().get("features.events.dlq").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
