package io.feedrank.ranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.localstack.LaggingRegistry;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.TcpGate;
import io.feedrank.ranker.RegistryRecords;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The registry listener against a real broker and schema registry, on a topic of its own. */
@LocalStackTest
class RegistryListenerIT {

  static ModelVersion record(String version) {
    Instant now = Instant.now();
    return ModelVersion.newBuilder()
        .setModelName("m")
        .setVersion(version)
        .setStage(ModelStage.PRODUCTION)
        .setArchitecture("mlp")
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setArtifactUri("file:/nowhere")
        .setArtifactSha256("")
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .build();
  }

  static void publish(LocalStack stack, String topic, List<ModelVersion> records) throws Exception {
    RegistryRecords.publish(stack, topic, records);
  }

  /**
   * A listener of {@code topic} on the stack's broker, its records read through {@code registry}.
   */
  /** A new registry topic of {@code partitions} partitions, named for this test. */
  static String newTopic(LocalStack stack, int partitions) throws Exception {
    String topic = "registry-it-" + UUID.randomUUID();
    try (Admin admin = stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    }
    return topic;
  }

  static RegistryListener listener(
      LocalStack stack,
      Map<String, Object> registry,
      String topic,
      java.util.function.Consumer<List<ModelVersion>> sink,
      io.micrometer.core.instrument.MeterRegistry metrics) {
    return new RegistryListener(
        new HashMap<>(stack.clientConfig()),
        RegistryListener.deserializer(registry),
        topic,
        sink,
        metrics);
  }

  static Set<String> versions(List<ModelVersion> state) {
    return state.stream().map(v -> v.getVersion().toString()).collect(Collectors.toSet());
  }

  /**
   * Every record is held for the listener's life (the topic has no tombstones): it holds and hands
   * on none with its reference profile, which the ranker never reads.
   */
  @Test
  void theStateHandedOnHoldsNoReferenceProfile(LocalStack stack) throws Exception {
    String topic = newTopic(stack, 1);
    List<ModelVersion> published = new java.util.ArrayList<>();
    for (String v : List.of("v1", "v2", "v3")) {
      published.add(
          ModelVersion.newBuilder(record(v))
              .setReferenceProfile(ModelLoadingTest.profile(300_000))
              .build());
    }
    publish(stack, topic, published);
    List<List<ModelVersion>> handed = new CopyOnWriteArrayList<>();
    try (RegistryListener listener =
        listener(
            stack,
            Map.of("schema.registry.url", stack.registryUrl()),
            topic,
            handed::add,
            new SimpleMeterRegistry())) {
      listener.start();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !handed.isEmpty());
    }
    assertThat(versions(handed.get(0))).containsExactlyInAnyOrder("v1", "v2", "v3");
    assertThat(handed.get(0))
        .filteredOn(v -> v.getReferenceProfile() != null)
        .extracting(v -> v.getVersion().toString())
        .as("versions handed on with their reference profile")
        .isEmpty();
  }

  /**
   * The sink throws on the first state it is handed. The listener counts the failure, waits, reads
   * the topic again from its start with a new consumer and hands over the whole state, then
   * follows: a record published afterwards arrives. No state it hands over is partial: each holds
   * every record published before the listener started.
   */
  @Test
  void aFailureIsCountedAndTheTopicIsReadAgainFromItsStart(LocalStack stack) throws Exception {
    String topic = newTopic(stack, 3);
    publish(stack, topic, List.of(record("v1"), record("v2"), record("v3")));

    AtomicInteger calls = new AtomicInteger();
    List<Set<String>> handed = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    Map<String, Object> registry = Map.of("schema.registry.url", stack.registryUrl());
    try (RegistryListener listener =
        listener(
            stack,
            registry,
            topic,
            state -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("the sink's first call fails");
              }
              handed.add(versions(state));
            },
            metrics)) {
      listener.start();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !handed.isEmpty());
      assertThat(metrics.get("ranker.registry.listener.failures").counter().count()).isEqualTo(1);
      assertThat(listener.caughtUp()).isTrue();
      assertThat(listener.following()).isTrue();
      assertThat(metrics.get("ranker.registry.listener.up").gauge().value()).isEqualTo(1.0);
      assertThat(handed.get(0)).containsExactlyInAnyOrder("v1", "v2", "v3");

      publish(stack, topic, List.of(record("v4")));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> handed.get(handed.size() - 1).contains("v4"));
      assertThat(handed).allSatisfy(s -> assertThat(s).contains("v1", "v2", "v3"));
      assertThat(metrics.get("ranker.registry.listener.failures").counter().count()).isEqualTo(1);
    }
  }

  /**
   * The wait before reading again doubles only while failures repeat before a whole state is handed
   * on: a failure after one waits the first second again (it used to keep doubling for the
   * process's life, so a listener that failed now and then came to wait 30 s each time).
   */
  @Test
  void theWaitStartsAgainFromASecondAfterAPassThatHandedOnTheState(LocalStack stack)
      throws Exception {
    String topic = newTopic(stack, 1);
    publish(stack, topic, List.of(record("v1")));
    AtomicInteger calls = new AtomicInteger();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    Map<String, Object> registry = Map.of("schema.registry.url", stack.registryUrl());
    try (RegistryListener listener =
        listener(
            stack,
            registry,
            topic,
            state -> {
              // each pass's first hand-off (the whole state) succeeds, the next one (news) fails
              if (calls.incrementAndGet() % 2 == 0) {
                throw new IllegalStateException("hand-off " + calls.get() + " fails");
              }
            },
            metrics)) {
      listener.start();
      for (int failure = 1; failure <= 2; failure++) {
        int handOffs = 2 * failure - 1;
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() == handOffs);
        publish(stack, topic, List.of(record("v" + (failure + 1))));
        double failed = failure;
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> metrics.get("ranker.registry.listener.failures").counter().count() == failed);
        assertThat(listener.lastWaitMillis()).as("wait after failure %d", failure).isEqualTo(1000);
      }
    }
  }

  /**
   * Started before its topic exists: the broker answers at once that there is no such topic, and
   * the listener waits a second before asking again instead of asking in a loop (it used to spend a
   * core on it), then reads the topic once it is created.
   */
  @Test
  void aTopicNotCreatedYetIsWaitedForWithoutSpinning(LocalStack stack) throws Exception {
    String topic = "registry-it-" + UUID.randomUUID();
    List<Set<String>> handed = new CopyOnWriteArrayList<>();
    Map<String, Object> registry = Map.of("schema.registry.url", stack.registryUrl());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (RegistryListener listener =
        listener(
            stack,
            registry,
            topic,
            state -> handed.add(versions(state)),
            new SimpleMeterRegistry())) {
      listener.start();
      long cpu0 = threads.getThreadCpuTime(listener.threadId());
      // 3 s of waiting: three metadata requests take a few milliseconds of CPU, a loop of them
      // (one every broker round trip, each logged) most of a second
      Awaitility.await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(5))
          .until(() -> threads.getThreadCpuTime(listener.threadId()) - cpu0 < 300_000_000L);
      try (Admin admin = stack.admin()) {
        assertThat(admin.listTopics().names().get())
            .as("not created by the listener")
            .doesNotContain(topic);
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      }
      publish(stack, topic, List.of(record("v1")));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !handed.isEmpty() && handed.get(handed.size() - 1).contains("v1"));
    }
  }

  /**
   * A sink that always fails: the listener keeps retrying, shows it is down, and stops on close.
   */
  @Test
  void aListenerThatKeepsFailingShowsItAndStillCloses(LocalStack stack) throws Exception {
    String topic = newTopic(stack, 1);
    publish(stack, topic, List.of(record("v1")));
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    Map<String, Object> registry = Map.of("schema.registry.url", stack.registryUrl());
    RegistryListener listener =
        listener(
            stack,
            registry,
            topic,
            state -> {
              throw new IllegalStateException("always");
            },
            metrics);
    listener.start();
    // 1 s, then 2 s between attempts
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> metrics.get("ranker.registry.listener.failures").counter().count() >= 2);
    assertThat(listener.caughtUp()).as("its state was never handed over").isFalse();
    listener.close();
    assertThat(listener.following()).isFalse();
    assertThat(metrics.get("ranker.registry.listener.up").gauge().value()).isZero();
    assertThat(listener.threadAlive()).as("its thread after close").isFalse();
  }

  /**
   * The schema registry cut off (a {@link TcpGate} in between) when the listener starts: it cannot
   * read the one record, and instead of skipping it and handing over a state without the production
   * model, it fails, shows it is down and tries again; once the registry answers, the state it
   * hands over has the record.
   */
  @Test
  void aRecordWhoseSchemaTheRegistryCannotGiveIsReadAgainNotSkipped(LocalStack stack)
      throws Exception {
    String topic = newTopic(stack, 1);
    publish(stack, topic, List.of(record("v1")));
    URI url = URI.create(stack.registryUrl());
    List<Set<String>> handed = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (TcpGate gate = new TcpGate(url.getHost(), url.getPort())) {
      gate.shut();
      Map<String, Object> registry =
          Map.of(
              "schema.registry.url",
              "http://127.0.0.1:" + gate.port() + url.getPath(),
              "schema.registry.max.retries",
              "0");
      try (RegistryListener listener =
          listener(stack, registry, topic, state -> handed.add(versions(state)), metrics)) {
        listener.start();
        // 1 s, then 2 s between attempts
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> metrics.get("ranker.registry.listener.failures").counter().count() >= 2);
        assertThat(handed).as("states handed over while the registry was away").isEmpty();
        assertThat(listener.caughtUp()).isFalse();

        gate.open();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !handed.isEmpty());
        assertThat(handed.get(0)).containsExactly("v1");
        assertThat(listener.caughtUp()).isTrue();
      }
    }
  }

  /**
   * The registry answers the first request for the record's schema id with a 404, as a replica that
   * has not read the schema yet does. The listener reads the topic again after its wait, and the
   * state it hands over has the record: it used to skip it, and hand over a state without the
   * production model (or miss a promotion until the next record). One failure: the client, which
   * remembers a 404 for a second, asks the registry again when the listener reads again (at 10 s it
   * answered the listener's next three reads itself, and the failures raised
   * RankerRegistryListenerFailing).
   */
  @Test
  void aSchemaIdTheRegistryDoesNotKnowYetIsReadAgainNotSkipped(LocalStack stack) throws Exception {
    String topic = newTopic(stack, 1);
    publish(stack, topic, List.of(record("v1")));
    List<Set<String>> handed = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (LaggingRegistry lagging = new LaggingRegistry(stack.registryUrl());
        RegistryListener listener =
            new RegistryListener(
                new HashMap<>(stack.clientConfig()),
                new AvroDeserializer<>(
                    new HttpSchemaRegistryClient(RegistryConfig.of(lagging.url())),
                    ModelVersion.class),
                topic,
                state -> handed.add(versions(state)),
                metrics)) {
      listener.start();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !handed.isEmpty());
      assertThat(handed.get(0)).containsExactly("v1");
      assertThat(metrics.get("ranker.registry.listener.failures").counter().count()).isEqualTo(1);
    }
  }
}
