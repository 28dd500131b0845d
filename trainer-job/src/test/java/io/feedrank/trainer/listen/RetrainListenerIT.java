package io.feedrank.trainer.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.TcpGate;
import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.TrainerHarness;
import io.feedrank.trainer.TrainerMetrics;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import io.feedrank.trainer.registry.ModelRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each test uses a model name of its own (the topic is shared and a new group reads it from the
 * start).
 *
 * <p>The listener on the real {@code retrain-commands} topic. The handler is a stand-in that
 * records what it was asked to run and can be held mid-run: what is under test is the queueing,
 * deduplication and offset handling, not training (TrainerPipelineIT runs real trainings).
 */
@LocalStackTest
class RetrainListenerIT {

  final List<String> started = new CopyOnWriteArrayList<>();
  final List<String> finished = new CopyOnWriteArrayList<>();
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger maxRunning = new AtomicInteger();
  final CountDownLatch release = new CountDownLatch(1);
  final java.util.concurrent.atomic.AtomicBoolean errorThrown =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Counts what the test's listeners skip as another model's, when the test does not look. */
  final Counter otherModel = new SimpleMeterRegistry().counter("trainer.commands.skipped");

  /** Counts what the test's listeners skip as superseded, when the test does not look. */
  final Counter superseded = new SimpleMeterRegistry().counter("trainer.commands.skipped");

  /** The registry on the real {@code model-registry} topic. */
  final KafkaModelRegistry registry;

  RetrainListenerIT(LocalStack stack) {
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    registry =
        new KafkaModelRegistry(
            stack.clientConfig(), serde.serializer(), serde.deserializer(), Topics.MODEL_REGISTRY);
  }

  @AfterEach
  void closeRegistry() {
    registry.close();
  }

  RetrainListener listener(LocalStack stack, String model, String group, Set<String> alreadyRun) {
    return listener(stack, model, group, alreadyRun, Map.of());
  }

  RetrainListener listener(
      LocalStack stack,
      String model,
      String group,
      Set<String> alreadyRun,
      Map<String, Object> consumerConfig) {
    return listener(
        stack,
        model,
        group,
        alreadyRun,
        consumerConfig,
        AvroSerdes.valueSerde(stack.registryClient(), RetrainCommand.class).deserializer());
  }

  RetrainListener listener(
      LocalStack stack,
      String model,
      String group,
      Set<String> alreadyRun,
      Map<String, Object> consumerConfig,
      Deserializer<RetrainCommand> values) {
    return listener(stack, model, group, alreadyRun, consumerConfig, values, otherModel);
  }

  RetrainListener listener(
      LocalStack stack,
      String model,
      String group,
      Set<String> alreadyRun,
      Map<String, Object> consumerConfig,
      Deserializer<RetrainCommand> values,
      Counter otherModel) {
    Map<String, Object> kafka = new HashMap<>(stack.clientConfig());
    kafka.putAll(consumerConfig);
    RetrainListener l =
        new RetrainListener(
            kafka,
            values,
            Topics.RETRAIN_COMMANDS,
            group,
            model,
            registry,
            alreadyRun,
            otherModel,
            superseded,
            c -> {
              String id = c.getCommandId();
              started.add(id);
              maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
              try {
                if (id.endsWith("-oom") && errorThrown.compareAndSet(false, true)) {
                  throw new OutOfMemoryError("a stand-in for a run out of memory");
                }
                if (id.endsWith("-a")) {
                  release.await(60, TimeUnit.SECONDS);
                }
              } finally {
                running.decrementAndGet();
                finished.add(id);
              }
            });
    l.start();
    return l;
  }

  static void send(LocalStack stack, String model, String... ids) {
    TrainerHarness.sendCommands(stack, model, null, null, ids);
  }

  /**
   * A second listener joins the group while the first trains a command, and the group gives it the
   * partition (its client id sorts first for the range assignor): the first stops its run, and the
   * command is run to its end once, by the new owner. Kept running, the first would also finish it,
   * and the one command would have trained and registered twice.
   */
  @Test
  void aCommandWhosePartitionMovesMidRunIsRunToItsEndOnceByTheNewOwner(LocalStack stack)
      throws Exception {
    String model = "moved-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    String command = model + "-1";
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger interrupted = new AtomicInteger();
    Map<String, Object> kafka = new HashMap<>(stack.clientConfig());
    send(stack, model, command);
    RetrainListener first =
        new RetrainListener(
            withClientId(kafka, "zzz-trainer"),
            AvroSerdes.valueSerde(stack.registryClient(), RetrainCommand.class).deserializer(),
            Topics.RETRAIN_COMMANDS,
            group,
            model,
            registry,
            Set.of(),
            otherModel,
            superseded,
            c -> {
              firstStarted.countDown();
              try {
                never.await(60, TimeUnit.SECONDS); // a long training
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
              completed.incrementAndGet();
            });
    first.start();
    try {
      assertThat(firstStarted.await(60, TimeUnit.SECONDS)).isTrue();
      try (RetrainListener second =
          new RetrainListener(
              withClientId(kafka, "aaa-trainer"),
              AvroSerdes.valueSerde(stack.registryClient(), RetrainCommand.class).deserializer(),
              Topics.RETRAIN_COMMANDS,
              group,
              model,
              registry,
              Set.of(),
              otherModel,
              superseded,
              c -> completed.incrementAndGet())) {
        second.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> completed.get() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> interrupted.get() == 1);
        never.countDown(); // a first run still going would complete now
      }
    } finally {
      first.close();
    }
    assertThat(completed).hasValue(1);
    assertThat(first.failed()).isNotDone();
  }

  private static Map<String, Object> withClientId(Map<String, Object> kafka, String clientId) {
    Map<String, Object> m = new HashMap<>(kafka);
    m.put("client.id", clientId + "-" + UUID.randomUUID());
    return m;
  }

  /**
   * Two models' trainers, each in the group {@code listen.group.id} defaults to for its model: the
   * first, alone on the topic, logs and counts the second's command and commits past it; the
   * second, started after, runs it. In the one group both had by default, the first's commit was
   * the second's, and the second never read its command.
   */
  @Test
  void aCommandForAnotherModelIsCountedSkippedAndRunByThatModelsTrainer(LocalStack stack)
      throws Exception {
    String run = "m" + System.nanoTime();
    String modelA = run + "-model-a";
    String modelB = run + "-model-b";
    String ownCommand = modelA + "-1";
    String othersCommand = modelB + "-1";
    try (Admin admin = Admin.create(new HashMap<>(stack.clientConfig()));
        TrainerMetrics metrics = new TrainerMetrics("127.0.0.1", 0)) {
      Counter skipped = metrics.otherModelCommands();
      String groupA = defaultGroup(stack, modelA);
      try (RetrainListener a =
          listener(
              stack,
              modelA,
              groupA,
              Set.of(),
              Map.of(),
              AvroSerdes.valueSerde(stack.registryClient(), RetrainCommand.class).deserializer(),
              skipped)) {
        // caught up with the topic (other tests' commands are other models' too): its own
        // command run, and everything committed
        send(stack, modelA, ownCommand);
        await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(ownCommand));
        await().atMost(Duration.ofSeconds(30)).until(() -> committedToTheEnd(stack, admin, groupA));
        double before = skipped.count();

        send(stack, modelB, othersCommand);
        await().atMost(Duration.ofSeconds(30)).until(() -> committedToTheEnd(stack, admin, groupA));
        assertThat(skipped.count()).isEqualTo(before + 1);
        assertThat(metrics.registry().scrape())
            .contains("trainer_commands_skipped_total{reason=\"other_model\"} " + (before + 1));
        assertThat(a.failed()).isNotDone();
      }
      assertThat(started).containsExactly(ownCommand);

      try (RetrainListener b = listener(stack, modelB, defaultGroup(stack, modelB), Set.of())) {
        await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(othersCommand));
      }
      assertThat(started).containsExactly(ownCommand, othersCommand);
    }
  }

  /**
   * One episode, two commands for production version v1 (a PREDICTION_DRIFT and a PERFORMANCE_DROP:
   * the drift job's kinds of command share no cooldown): the first's run promotes v2, and the
   * second, when its turn comes, is logged, counted and committed past instead of training again.
   * Then, for v2, a run whose candidate did not beat it leaves the next command for v2 to run, and
   * a command without a reference runs too.
   */
  @Test
  void aCommandWhoseVersionAPromotionReplacedSinceIsSkippedAsSuperseded(LocalStack stack)
      throws Exception {
    String model = "superseded-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    String promotes = model + "-drift";
    String sameEpisode = model + "-ctr-drop";
    registry.publish(List.of(version(model, "v1", ModelStage.PRODUCTION)));
    await().atMost(Duration.ofSeconds(10)).until(() -> "v1".equals(production(model)));
    try (Admin admin = Admin.create(new HashMap<>(stack.clientConfig()));
        TrainerMetrics metrics = new TrainerMetrics("127.0.0.1", 0);
        RetrainListener l =
            new RetrainListener(
                new HashMap<>(stack.clientConfig()),
                AvroSerdes.valueSerde(stack.registryClient(), RetrainCommand.class).deserializer(),
                Topics.RETRAIN_COMMANDS,
                group,
                model,
                registry,
                Set.of(),
                otherModel,
                metrics.supersededCommands(),
                c -> {
                  started.add(c.getCommandId());
                  if (c.getCommandId().equals(promotes)) {
                    // what a run whose candidate beat production decides
                    registry.update(
                        model,
                        versions ->
                            List.of(
                                version(model, "v2", ModelStage.PRODUCTION),
                                version(model, "v1", ModelStage.ARCHIVED)));
                    // readable once the commit's markers are written, just after it returns; a
                    // real run saves its record and metrics meanwhile
                    await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> "v2".equals(production(model)));
                  }
                })) {
      l.start();
      sendFor(stack, model, "v1", RetrainReason.PREDICTION_DRIFT, promotes);
      sendFor(stack, model, "v1", RetrainReason.PERFORMANCE_DROP, sameEpisode);
      await().atMost(Duration.ofSeconds(60)).until(() -> committedToTheEnd(stack, admin, group));
      assertThat(started).containsExactly(promotes);
      assertThat(metrics.supersededCommands().count()).isEqualTo(1.0);
      assertThat(metrics.registry().scrape())
          .contains("trainer_commands_skipped_total{reason=\"superseded\"} 1.0");

      String notBeaten = model + "-v2-1";
      String again = model + "-v2-2";
      String manual = model + "-manual";
      sendFor(stack, model, "v2", RetrainReason.FEATURE_DRIFT, notBeaten, again);
      sendFor(stack, model, null, RetrainReason.MANUAL, manual);
      await().atMost(Duration.ofSeconds(60)).until(() -> started.contains(manual));
      assertThat(started).containsExactly(promotes, notBeaten, again, manual);
      assertThat(metrics.supersededCommands().count()).isEqualTo(1.0);
      assertThat(l.failed()).isNotDone();
    }
  }

  /** Commands {@code ids} of {@code model} for its version {@code reference} (null: none). */
  private static void sendFor(
      LocalStack stack, String model, String reference, RetrainReason reason, String... ids) {
    TrainerHarness.sendCommands(stack, model, null, null, reference, reason, ids);
  }

  private String production(String model) {
    return ModelRegistry.newest(registry.versions(model), ModelStage.PRODUCTION)
        .map(ModelVersion::getVersion)
        .orElse(null);
  }

  private static ModelVersion version(String model, String v, ModelStage stage) {
    Instant now = Instant.now();
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setArtifactUri("file:/unused/" + v)
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .build();
  }

  /** The group a trainer of {@code model} listens in when {@code listen.group.id} is not given. */
  private static String defaultGroup(LocalStack stack, String model) {
    return TrainerConfig.from(
            Map.of(
                "bootstrap.servers", stack.bootstrapServers(),
                "schema.registry.url", stack.registryUrl(),
                "model.name", model))
        .listenGroupId();
  }

  @Test
  void runsOneCommandAtATimeOnceEachAndResumesAfterWhatRan(LocalStack stack) throws Exception {
    String run = "l" + System.nanoTime();
    String a = run + "-a";
    String b = run + "-b";
    String group = "listener-it-" + run;
    try (RetrainListener l = listener(stack, run, group, Set.of())) {
      send(stack, run, a, a); // the same command twice
      await().atMost(Duration.ofSeconds(30)).until(() -> started.contains(a));
      send(stack, run, b);
      send(stack, "another-model", run + "-other");
      // b arrives while a runs: it waits
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> !started.contains(b));
      release.countDown();
      await().atMost(Duration.ofSeconds(30)).until(() -> finished.contains(b));
    }
    assertThat(started).containsExactly(a, b);
    assertThat(maxRunning).hasValue(1);

    // a new listener of the same group starts after what was handled: only new commands run
    String c = run + "-c";
    try (RetrainListener l = listener(stack, run, group, Set.of())) {
      send(stack, run, c);
      await().atMost(Duration.ofSeconds(30)).until(() -> finished.contains(c));
    }
    assertThat(started).containsExactly(a, b, c);
  }

  @Test
  void closingMidRunInterruptsTheRunAndTheNextStartRunsItsCommandAgain(LocalStack stack)
      throws Exception {
    String run = "i" + System.nanoTime();
    String a = run + "-a"; // held until released, which it never is: a long training
    String group = "listener-it-" + run;
    RetrainListener first = listener(stack, run, group, Set.of());
    send(stack, run, a);
    await().atMost(Duration.ofSeconds(30)).until(() -> started.contains(a));
    // close interrupts the run: it returns long before the run's own 60 s
    assertTimeoutPreemptively(Duration.ofSeconds(20), first::close);
    assertThat(finished).containsExactly(a);
    assertThat(running).hasValue(0);

    // not committed as handled: the next listener of the group runs it again
    try (RetrainListener second = listener(stack, run, group, Set.of())) {
      await().atMost(Duration.ofSeconds(30)).until(() -> started.size() == 2);
    }
    assertThat(started).containsExactly(a, a);
  }

  @Test
  void commandsRecordedInEarlierRunsAreNotRunAgain(LocalStack stack) throws Exception {
    String run = "r" + System.nanoTime();
    String done = run + "-done";
    String fresh = run + "-fresh";
    try (RetrainListener l = listener(stack, run, "listener-it-" + run, Set.of(done))) {
      send(stack, run, done, fresh);
      await().atMost(Duration.ofSeconds(30)).until(() -> finished.contains(fresh));
    }
    assertThat(started).containsExactly(fresh);
  }

  /**
   * A listener that stops consuming on an error says so, rather than leaving a process that waits
   * for Ctrl-C and takes no command: fenced here by a second listener with the same static
   * membership id (a deployment that gave two replicas one {@code group.instance.id}). The one that
   * replaced it takes the commands.
   */
  @Test
  void aListenerFencedByAnotherWithItsInstanceIdSaysItFailed(LocalStack stack) throws Exception {
    String model = "fenced-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    Map<String, Object> sameId = Map.of("group.instance.id", "trainer-0");
    try (RetrainListener first = listener(stack, model, group, Set.of(), sameId)) {
      send(stack, model, model + "-1");
      await().atMost(Duration.ofSeconds(60)).until(() -> finished.size() == 1);
      assertThat(first.failed()).isNotDone();

      try (RetrainListener second = listener(stack, model, group, Set.of(), sameId)) {
        first.failed().get(60, TimeUnit.SECONDS);
        send(stack, model, model + "-2");
        await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(model + "-2"));
        assertThat(second.failed()).isNotDone();
      }
    }
  }

  /**
   * An {@code Error} in a run (out of memory, a native library that would not link) is not the
   * command's failure: the listener says it failed, without committing the command, and the next
   * start of its group runs it again. It used to stay in the worker's unread {@code Future}: the
   * listener looked healthy and never committed another offset.
   */
  @Test
  void anErrorInARunFailsTheListenerAndTheNextStartRunsTheCommandAgain(LocalStack stack)
      throws Exception {
    String model = "error-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    String oom = model + "-oom";
    try (RetrainListener l = listener(stack, model, group, Set.of())) {
      send(stack, model, oom);
      l.failed().get(60, TimeUnit.SECONDS);
    }
    assertThat(started).containsExactly(oom);

    try (RetrainListener l = listener(stack, model, group, Set.of())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> finished.size() == 2);
      assertThat(l.failed()).isNotDone();
    }
    assertThat(started).containsExactly(oom, oom);
  }

  /**
   * The schema registry cut off (a {@link TcpGate} in front of the real one, shut) when the
   * listener reads its first command, whose schema it has not fetched yet: the listener neither
   * skips the command nor stops; it reads it again, with waits that grow, and runs it once the
   * registry answers again.
   */
  @Test
  void aCommandWhoseSchemaTheRegistryCannotGiveWaitsForTheRegistryAndRuns(LocalStack stack)
      throws Exception {
    String model = "unreachable-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    send(stack, model, model + "-1");
    URI registry = URI.create(stack.registryUrl());
    try (TcpGate gate = new TcpGate(registry.getHost(), registry.getPort());
        SchemaRegistryClient behind =
            new HttpSchemaRegistryClient(
                RegistryConfig.of("http://127.0.0.1:" + gate.port() + registry.getPath())
                    .withRetries(0, Duration.ofMillis(10), Duration.ofMillis(10)))) {
      gate.shut();
      try (RetrainListener l =
          listener(
              stack,
              model,
              group,
              Set.of(),
              Map.of(),
              new AvroDeserializer<>(behind, RetrainCommand.class))) {
        // asked, waited 1 s, asked again: a listener that stopped would not ask a second time
        await().atMost(Duration.ofSeconds(30)).until(() -> gate.refused() >= 2);
        assertThat(l.failed()).isNotDone();
        assertThat(started).isEmpty();

        gate.open();
        await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(model + "-1"));
        assertThat(l.failed()).isNotDone();
      }
      assertThat(started).containsExactly(model + "-1");
    }
    // and its offset was committed: the group's next listener runs nothing
    try (RetrainListener l = listener(stack, model, group, Set.of())) {
      send(stack, model, model + "-2");
      await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(model + "-2"));
    }
    assertThat(started).containsExactly(model + "-1", model + "-2");
  }

  /**
   * A record no deserializer can read (not Avro), after the last command, is skipped and committed
   * past: the group's next start does not read it again.
   */
  @Test
  void anUndecodableRecordIsSkippedAndCommittedPast(LocalStack stack) throws Exception {
    String model = "undecodable-" + UUID.randomUUID();
    String group = "trainer-" + UUID.randomUUID();
    send(stack, model, model + "-1");
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            new HashMap<>(stack.clientConfig()),
            new StringSerializer(),
            new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(Topics.RETRAIN_COMMANDS, model, "{\"not\": \"avro\"}".getBytes()))
          .get(30, TimeUnit.SECONDS);
    }
    try (Admin admin = Admin.create(new HashMap<>(stack.clientConfig()));
        RetrainListener l = listener(stack, model, group, Set.of())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> finished.contains(model + "-1"));
      // the two records share the model's key, so one partition: committed up to its end
      await().atMost(Duration.ofSeconds(30)).until(() -> committedToTheEnd(stack, admin, group));
      assertThat(l.failed()).isNotDone();
    }
    assertThat(started).containsExactly(model + "-1");
  }

  private static boolean committedToTheEnd(LocalStack stack, Admin admin, String group)
      throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    if (committed.isEmpty()) {
      return false;
    }
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            new HashMap<>(stack.clientConfig()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      Map<TopicPartition, Long> ends = c.endOffsets(committed.keySet());
      return committed.entrySet().stream()
          .allMatch(e -> e.getValue() != null && e.getValue().offset() == ends.get(e.getKey()));
    }
  }
}
