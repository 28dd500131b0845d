package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.DriftEvidence;
import io.feedrank.events.DriftKind;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.Ports;
import io.feedrank.models.Checksums;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.data.ExampleSample;
import io.feedrank.trainer.data.ExampleSource;
import io.feedrank.trainer.data.KafkaExampleSource;
import io.feedrank.trainer.listen.RetrainListener;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.registry.PromotionTest;
import io.feedrank.trainer.registry.RegistryCommands;
import io.feedrank.trainer.runs.RunRecord;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on the real local stack: examples read from the real topic (read_committed, by
 * event-time range), real training runs, artifacts on disk, decisions on the real compacted {@code
 * model-registry} topic.
 */
@LocalStackTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerPipelineIT {
  static final String MODEL = "pipeline-it";
  @TempDir static Path artifacts;
  TrainerHarness h;
  List<TrainingExample> published;
  Instant start;
  Instant end;

  @BeforeAll
  void publish(LocalStack stack) {
    h = new TrainerHarness(stack, artifacts);
    start = TrainerHarness.recentHour();
    published = TrainerHarness.examples(start, 30_000, 5);
    end = published.get(published.size() - 1).getEventTime().plusMillis(1);
    h.publish(published, false);
    // an aborted transaction inside the range: read_committed must never see it
    h.publish(TrainerHarness.examples(start, 3_000, 99), true);
  }

  Main trainer(Consumer<Map<String, String>> tweak) {
    Map<String, String> c = h.config(start, end);
    c.put("model.name", MODEL);
    tweak.accept(c);
    return new Main(TrainerConfig.from(c), Clock.systemUTC());
  }

  @Test
  void readsTheCommittedExamplesOfTheRangeAndNothingElse() {
    TrainerConfig c = TrainerConfig.from(h.config(start, end));
    {
      Instant from = start.plusSeconds(60);
      Instant to = start.plusSeconds(200);
      ExampleSource source =
          new KafkaExampleSource(
              c.kafka(),
              io.feedrank.avro.serde.AvroSerdes.valueSerde(
                      h.stack.registryClient(), TrainingExample.class)
                  .deserializer(),
              c.examplesTopic(),
              Duration.ofMinutes(1),
              Duration.ofSeconds(20));
      ExampleSource.Loaded got =
          source.read(new DataRange(from, to), new ExampleSample(Integer.MAX_VALUE, 42));
      Set<String> expected =
          published.stream()
              .filter(e -> !e.getEventTime().isBefore(from) && e.getEventTime().isBefore(to))
              .map(e -> e.getUserId() + "/" + e.getItemId() + "/" + e.getEventTime().toEpochMilli())
              .collect(Collectors.toSet());
      assertThat(expected).hasSizeGreaterThan(5_000);
      assertThat(got.examples()).hasSize(expected.size());
      assertThat(
              got.examples().stream()
                  .map(e -> e.userId() + "/" + e.itemId() + "/" + e.eventTimeMillis())
                  .collect(Collectors.toSet()))
          .isEqualTo(expected);
      assertThat(got.unusable()).isZero();
    }
  }

  /**
   * A read keeps at most its sample's capacity, the same examples at every read of the range with
   * the same seed, though each read interleaves the twelve partitions as their fetches come back;
   * another seed keeps others. Every example of the range is still counted.
   */
  @Test
  void aCappedReadKeepsOneSampleOfTheRangeWhateverTheOrderOfItsPartitions() {
    TrainerConfig c = TrainerConfig.from(h.config(start, end));
    Instant from = start.plusSeconds(60);
    Instant to = start.plusSeconds(200);
    Set<String> expected =
        published.stream()
            .filter(e -> !e.getEventTime().isBefore(from) && e.getEventTime().isBefore(to))
            .map(e -> e.getUserId() + "/" + e.getItemId() + "/" + e.getEventTime().toEpochMilli())
            .collect(Collectors.toSet());
    int cap = expected.size() / 2;
    List<Set<String>> samples = new ArrayList<>();
    for (long seed : new long[] {42, 42, 43}) {
      ExampleSource.Loaded got =
          source(c, c.examplesTopic(), Duration.ofMinutes(1))
              .read(new DataRange(from, to), new ExampleSample(cap, seed));
      assertThat(got.inRange()).isEqualTo(expected.size());
      assertThat(got.examples()).hasSize(cap);
      samples.add(
          got.examples().stream()
              .map(e -> e.userId() + "/" + e.itemId() + "/" + e.eventTimeMillis())
              .collect(Collectors.toSet()));
    }
    assertThat(expected).containsAll(samples.get(0));
    assertThat(samples.get(1)).isEqualTo(samples.get(0));
    assertThat(samples.get(2)).isNotEqualTo(samples.get(0));
  }

  /**
   * The records of a partition of training-examples are not in timestamp order (copies of producer
   * timestamps, written by the streams app's item tasks at uneven speeds through a backlog): a
   * record stamped past {@code to + lateness} whose event time is in the range, then one of the
   * range stamped within the lateness. The read stopped the partition at the first of them and lost
   * the second; it reads on to the partition's end, and counts the late stamp.
   */
  @Test
  void aPartitionIsReadToItsEndPastARecordStampedAfterTheRange() throws Exception {
    String topic = "stamped-late-it-" + UUID.randomUUID();
    try (Admin admin = h.stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    // in the past (the broker refuses a timestamp more than an hour ahead of its clock)
    Instant from = start.minus(Duration.ofHours(4));
    Instant to = from.plus(Duration.ofMinutes(10));
    Duration lateness = Duration.ofHours(1);
    List<TrainingExample> three = new ArrayList<>();
    List<Long> eventTimes = new ArrayList<>();
    for (TrainingExample e : TrainerHarness.examples(from, 3, 11)) {
      Instant t = from.plus(Duration.ofMinutes(1 + three.size()));
      three.add(TrainingExample.newBuilder(e).setEventTime(t).build());
      eventTimes.add(t.toEpochMilli());
    }
    h.publishStamped(
        topic,
        three,
        List.of(
            eventTimes.get(0),
            to.plus(Duration.ofHours(2)).toEpochMilli(),
            to.plus(Duration.ofMinutes(1)).toEpochMilli()));

    ExampleSource.Loaded got =
        source(TrainerConfig.from(h.config(start, end)), topic, lateness)
            .read(new DataRange(from, to), new ExampleSample(Integer.MAX_VALUE, 42));
    assertThat(got.examples())
        .extracting(io.feedrank.trainer.data.Example::eventTimeMillis)
        .containsExactlyInAnyOrderElementsOf(eventTimes);
    assertThat(got.inRange()).isEqualTo(3);
    assertThat(got.recordsRead()).isEqualTo(3);
    assertThat(got.outsideRange()).isZero();
    assertThat(got.stampedLate()).isEqualTo(1);
  }

  /**
   * One example with a NaN feature and one with hour_of_day 24 (a foreign or legacy producer's; the
   * streams app writes neither) among good ones: the read skips both and counts them unusable, and
   * a run on the range succeeds on the good ones. The hour failed every run over the range (the
   * vectorizer refused it mid-run), the NaN made its column's fitted mean NaN and the run failed as
   * a divergence.
   */
  @Test
  void examplesWithANanFeatureOrAnHourOutOfRangeAreSkippedAndCountedAndTheRunSucceeds()
      throws Exception {
    String topic = "unusable-it-" + UUID.randomUUID();
    try (Admin admin = h.stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    // in the past, like the class's examples; enough for the holdout's 1,000 export-check rows
    Instant from = start.minus(Duration.ofHours(3));
    List<TrainingExample> good = TrainerHarness.examples(from, 7_000, 13);
    Instant to = good.get(good.size() - 1).getEventTime().plusMillis(1);
    // early in the range: in the training split, whose columns the standardisation is fitted on
    List<Double> user = new ArrayList<>(good.get(100).getUserFeatures());
    user.set(0, Double.NaN);
    TrainingExample nan =
        TrainingExample.newBuilder(good.get(100))
            .setInteractionId("nan-feature")
            .setUserFeatures(user)
            .build();
    TrainingExample hour24 =
        TrainingExample.newBuilder(good.get(200))
            .setInteractionId("hour-24")
            .setHourOfDay(24)
            .build();
    List<TrainingExample> all = new ArrayList<>(good);
    all.add(150, nan);
    all.add(250, hour24);
    h.publishStamped(topic, all, all.stream().map(e -> e.getEventTime().toEpochMilli()).toList());

    ExampleSource.Loaded got =
        source(TrainerConfig.from(h.config(start, end)), topic, Duration.ofMinutes(1))
            .read(new DataRange(from, to), new ExampleSample(Integer.MAX_VALUE, 42));
    assertThat(got.unusable()).isEqualTo(2);
    assertThat(got.recordsRead()).isEqualTo(all.size());
    assertThat(got.inRange()).isEqualTo(good.size());
    assertThat(got.examples()).hasSize(good.size());
    assertThat(
            got.examples().stream()
                .map(e -> e.userId() + "/" + e.itemId() + "/" + e.eventTimeMillis())
                .collect(Collectors.toSet()))
        .isEqualTo(
            good.stream()
                .map(
                    e ->
                        e.getUserId() + "/" + e.getItemId() + "/" + e.getEventTime().toEpochMilli())
                .collect(Collectors.toSet()));

    RunRecord run;
    try (Main m =
        trainer(
            c -> {
              c.put("model.name", "unusable-it");
              c.put("training.examples.topic", topic);
            })) {
      run = m.trainOnce(new DataRange(from, to), "manual");
    }
    assertThat(run.status).isEqualTo(RunRecord.SUCCEEDED);
    assertThat(run.counts)
        .containsEntry("unusable", 2L)
        .containsEntry("examples", (long) good.size());
    assertThat(run.models).extracting(x -> x.architecture).containsExactly("logistic", "mlp");
    assertThat(run.models.get(1).epochs)
        .allSatisfy(
            e ->
                assertThat(Double.isFinite(((Number) e.get("train_loss")).doubleValue())).isTrue());
  }

  private ExampleSource source(TrainerConfig c, String topic, Duration lateness) {
    return new KafkaExampleSource(
        c.kafka(),
        io.feedrank.avro.serde.AvroSerdes.valueSerde(
                h.stack.registryClient(), TrainingExample.class)
            .deserializer(),
        topic,
        lateness,
        Duration.ofSeconds(20));
  }

  /**
   * With the schema registry unreachable (nothing listens at its address), reading the examples or
   * the model registry topic fails at its first record, naming the registry, instead of skipping
   * every record: a run would train on what was left, or promote a candidate against no production
   * model.
   */
  @Test
  void anUnreachableSchemaRegistryFailsTheReadsInsteadOfSkippingTheRecords() throws Exception {
    SchemaRegistryClient dead =
        new HttpSchemaRegistryClient(
            RegistryConfig.of("http://127.0.0.1:" + Ports.freePort())
                .withRetries(0, Duration.ofMillis(10), Duration.ofMillis(10)));
    TrainerConfig c = TrainerConfig.from(h.config(start, end));
    ExampleSource source =
        new KafkaExampleSource(
            c.kafka(),
            new AvroDeserializer<>(dead, TrainingExample.class),
            c.examplesTopic(),
            Duration.ofMinutes(1),
            Duration.ofSeconds(20));
    assertThatThrownBy(
            () -> source.read(new DataRange(start, end), new ExampleSample(Integer.MAX_VALUE, 42)))
        .isInstanceOf(RecordDeserializationException.class)
        .cause()
        .isInstanceOf(RegistryUnavailableException.class)
        .hasMessageContaining("unreachable");

    String topic = "registry-unreachable-it-" + UUID.randomUUID();
    try (Admin admin = h.stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    ModelVersion v =
        PromotionTest.version("v-unreachable", ModelStage.PRODUCTION, null, Instant.now());
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            c.kafka(),
            new AvroSerializer<>(h.stack.registryClient(), true),
            new AvroDeserializer<>(dead, ModelVersion.class),
            topic)) {
      registry.publish(List.of(v));
      // once the commit's markers are written (just after it returns), the read meets the record
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> registry.versions(MODEL))
                      .isInstanceOf(RecordDeserializationException.class)
                      .cause()
                      .isInstanceOf(RegistryUnavailableException.class));
    }
  }

  /**
   * A listener closed mid-training (a shutdown) stops the run at its next batch instead of after
   * its epochs, records it CANCELLED, and leaves its command to the next start, which runs it
   * again.
   */
  @Test
  void aListenerClosedMidTrainingCancelsTheRunAndTheNextStartRunsTheCommandAgain(
      @TempDir Path store) throws Exception {
    String command = "cancel-" + System.nanoTime();
    Consumer<Map<String, String>> longTraining =
        c -> {
          c.put("artifact.store", store.toString());
          c.put("listen.group.id", "pipeline-it-" + command);
          c.put("max.epochs", "10000"); // minutes of training, were it not stopped
          c.put("patience", "10000");
        };
    TrainerHarness.sendCommands(h.stack, MODEL, start, end, command);
    for (int attempt = 1; attempt <= 2; attempt++) {
      int a = attempt;
      try (Main m = trainer(longTraining)) {
        RetrainListener l = m.listen();
        // the data is read and saved with the run: training has begun
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> runsOf(m, command).size() == a && read(runsOf(m, command).get(0)));
        assertTimeoutPreemptively(Duration.ofSeconds(60), l::close);
        List<RunRecord> runs = runsOf(m, command);
        assertThat(runs).hasSize(a);
        assertThat(runs)
            .allSatisfy(
                r -> {
                  assertThat(r.status).isEqualTo(RunRecord.CANCELLED);
                  assertThat(r.error).contains("interrupted");
                  assertThat(r.registeredModel()).isEmpty();
                  assertThat(r.finishedAt).isNotNull();
                });
      }
    }
  }

  /**
   * A run cut short after its registry write committed (recorded CANCELLED, its version on the
   * registry topic) had its versions and its decision: the next start does not run its command
   * again, which would train and decide a second time, and completes its record from the registry.
   * A RUNNING record just saved may be a live run's in another process (it saves right after its
   * registry write): its command is not run again either, and its record is left to it. A command
   * behind them, of an empty range and refused at once, shows the worker got past them. Another
   * model name than the other tests', so that their listeners skip these commands and this one
   * skips theirs.
   */
  @Test
  void aCommandWhoseCutShortRunWroteItsVersionsIsNotRunAgain(@TempDir Path store) throws Exception {
    String model = MODEL + "-written";
    String command = "written-" + System.nanoTime();
    String after = "after-" + System.nanoTime();
    String liveCommand = "live-" + System.nanoTime();
    Consumer<Map<String, String>> own =
        c -> {
          c.put("model.name", model);
          c.put("artifact.store", store.toString());
          c.put("listen.group.id", "pipeline-it-" + command);
        };
    try (Main m = trainer(own)) {
      RunRecord cut =
          saveEnded(
              m,
              "run-cut-" + System.nanoTime(),
              RunRecord.CANCELLED,
              command,
              Instant.now(),
              "java.lang.IllegalStateException: interrupted while writing to model-registry");
      RunRecord live = new RunRecord();
      live.id = "run-live-" + System.nanoTime();
      live.commandId = liveCommand;
      live.startedAt = Instant.now().toString();
      m.runs().save(live); // RUNNING, saved just now
      m.registry().publish(List.of(rejected(model, cut.id), rejected(model, live.id)));
      await().atMost(Duration.ofSeconds(10)).until(() -> m.registry().versions(model).size() == 2);
      TrainerHarness.sendCommands(h.stack, model, start, end, command);
      TrainerHarness.sendCommands(h.stack, model, start, end, liveCommand);
      TrainerHarness.sendCommands(
          h.stack, model, start.minusSeconds(7200), start.minusSeconds(3600), after);
      RetrainListener l = m.listen();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> runsOf(m, after).stream().anyMatch(r -> RunRecord.REFUSED.equals(r.status)));
      l.close();
      assertThat(runsOf(m, command)).extracting(r -> r.id).containsExactly(cut.id);
      // and its record says what the registry has of it, and what it said before
      RunRecord completed = runsOf(m, command).get(0);
      assertThat(completed.status).isEqualTo(RunRecord.SUCCEEDED);
      assertThat(completed.error).isNull();
      assertThat(completed.recovered)
          .contains("CANCELLED")
          .contains("interrupted while writing to model-registry");
      assertThat(completed.models)
          .singleElement()
          .satisfies(
              x -> {
                assertThat(x.architecture).isEqualTo("mlp");
                assertThat(x.version).isEqualTo(cut.id + "-mlp");
                assertThat(x.stage).isEqualTo("REJECTED");
                assertThat(x.decisionReason).isEqualTo("AUC 0.61 does not beat production's 0.64");
              });
      assertThat(runsOf(m, liveCommand))
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.id).isEqualTo(live.id);
                assertThat(r.status).isEqualTo(RunRecord.RUNNING);
                assertThat(r.recovered).isNull();
              });
    }
  }

  /**
   * A run keeps the retrain command it answered whole — reason, drift evidence, reference version,
   * message, times — in its record: retrain-commands is a delete-policy topic, and once retention
   * has deleted the command, the run's record is where "which drift asked for this model" is
   * answered. The command (of an empty range: refused at once, which records the run) is read back
   * from the run store after its records were deleted from the topic, and compared field by field
   * with what was published.
   */
  @Test
  void aRunKeepsItsCommandWholeAfterTheTopicLostIt(@TempDir Path store) throws Exception {
    String model = MODEL + "-command";
    String command = "kept-" + System.nanoTime();
    Instant issued = Instant.parse("2026-11-23T06:15:00.123Z");
    Instant windowStart = Instant.parse("2026-11-23T05:00:00Z");
    RetrainCommand c =
        RetrainCommand.newBuilder()
            .setCommandId(command)
            .setModelName(model)
            .setIssuedAt(issued)
            .setReason(RetrainReason.FEATURE_DRIFT)
            .setEvidence(
                List.of(
                    DriftEvidence.newBuilder()
                        .setFeature("user_ctr_7d")
                        .setKind(DriftKind.NUMERIC)
                        .setWindowStart(windowStart)
                        .setWindowEnd(windowStart.plusSeconds(3600))
                        .setN(4_812)
                        .setPsi(0.31)
                        .setKsStatistic(0.12)
                        .setKsPValue(1e-9)
                        .setConsecutiveWindows(3)
                        .setSampleSize(4_812)
                        .build(),
                    DriftEvidence.newBuilder()
                        .setFeature("item_category")
                        .setKind(DriftKind.CATEGORICAL)
                        .setWindowStart(windowStart)
                        .setWindowEnd(windowStart.plusSeconds(3600))
                        .setN(4_812)
                        .setPsi(0.27)
                        .setChi2PValue(2e-7)
                        .setConsecutiveWindows(2)
                        .build()))
            .setReferenceVersion("20261122-031500-00ab-mlp")
            .setDataFrom(start.minusSeconds(7200))
            .setDataTo(start.minusSeconds(3600))
            .setMessage("2 features drifted for 2+ windows")
            .build();
    Consumer<Map<String, String>> own =
        x -> {
          x.put("model.name", model);
          x.put("artifact.store", store.toString());
          x.put("listen.group.id", "pipeline-it-" + command);
        };
    try (Main m = trainer(own)) {
      TrainerHarness.sendCommands(h.stack, List.of(c));
      RetrainListener l = m.listen();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> runsOf(m, command).stream().anyMatch(r -> RunRecord.REFUSED.equals(r.status)));
      l.close();
    }
    try (Admin admin = Admin.create(h.stack.clientConfig())) {
      Map<TopicPartition, RecordsToDelete> all = new HashMap<>();
      for (TopicPartition tp : partitionsOf(admin, Topics.RETRAIN_COMMANDS)) {
        long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
        all.put(tp, RecordsToDelete.beforeOffset(end));
      }
      admin.deleteRecords(all).all().get();
    }
    try (Main m = trainer(own)) {
      Map<String, Object> kept = runsOf(m, command).get(0).command;
      assertThat(kept)
          .containsEntry("command_id", command)
          .containsEntry("model_name", model)
          .containsEntry("issued_at", "2026-11-23T06:15:00.123Z")
          .containsEntry("reason", "FEATURE_DRIFT")
          .containsEntry("reference_version", "20261122-031500-00ab-mlp")
          .containsEntry("data_from", start.minusSeconds(7200).toString())
          .containsEntry("message", "2 features drifted for 2+ windows");
      assertThat(kept.get("evidence"))
          .asInstanceOf(InstanceOfAssertFactories.list(Map.class))
          .satisfiesExactly(
              e ->
                  assertThat(e)
                      .containsEntry("feature", "user_ctr_7d")
                      .containsEntry("kind", "NUMERIC")
                      .containsEntry("window_start", "2026-11-23T05:00:00Z")
                      .containsEntry("window_end", "2026-11-23T06:00:00Z")
                      .containsEntry("psi", 0.31)
                      .containsEntry("ks_p_value", 1e-9)
                      .containsEntry("chi2_p_value", null)
                      .containsEntry("consecutive_windows", 3),
              e ->
                  assertThat(e)
                      .containsEntry("feature", "item_category")
                      .containsEntry("kind", "CATEGORICAL")
                      .containsEntry("ks_statistic", null)
                      .containsEntry("chi2_p_value", 2e-7)
                      .containsEntry("sample_size", 0));
    }
  }

  private static List<TopicPartition> partitionsOf(Admin admin, String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get()
        .get(topic)
        .partitions()
        .stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .toList();
  }

  /**
   * A command whose version another listener of the group registered — its run wrote to
   * model-registry, then the group moved the partition to this listener before that one committed
   * the offset — is not run again here: no run, no second version, its offset committed past. The
   * other listener is another process with a run store of its own, so only the registry record,
   * which names its command, can tell. The command names the range the other tests train on: run,
   * it would train and register. A command behind it, of an empty range and refused at once, shows
   * the worker got past it.
   */
  @Test
  void aCommandAnotherListenerRegisteredIsCommittedPastWithoutARun(@TempDir Path store)
      throws Exception {
    String model = MODEL + "-elsewhere";
    String command = "elsewhere-" + System.nanoTime();
    String after = "after-" + System.nanoTime();
    String group = "pipeline-it-" + command;
    Consumer<Map<String, String>> own =
        c -> {
          c.put("model.name", model);
          c.put("artifact.store", store.toString());
          c.put("listen.group.id", group);
        };
    try (Main m = trainer(own)) {
      ModelVersion elsewhere =
          ModelVersion.newBuilder(rejected(model, "run-elsewhere-" + System.nanoTime()))
              .setCommandId(command)
              .build();
      m.registry().publish(List.of(elsewhere));
      await().atMost(Duration.ofSeconds(10)).until(() -> m.registry().versions(model).size() == 1);
      TrainerHarness.sendCommands(h.stack, model, start, end, command);
      TrainerHarness.sendCommands(
          h.stack, model, start.minusSeconds(7200), start.minusSeconds(3600), after);
      RetrainListener l = m.listen();
      // committed past both once both are handled (not at the run's record: a close between the
      // refused run's save and its return to the listener would leave it to the next start)
      await()
          // a run of the command, were it run, trains for a minute or so before the other's
          .atMost(Duration.ofSeconds(180))
          .pollInSameThread()
          .until(() -> uncommitted(group, model).isEmpty());
      l.close();
      assertThat(runsOf(m, command)).extracting(r -> r.id + " " + r.status).isEmpty();
      assertThat(runsOf(m, after))
          .singleElement()
          .satisfies(r -> assertThat(r.status).isEqualTo(RunRecord.REFUSED));
      assertThat(m.registry().versions(model))
          .extracting(ModelVersion::getVersion)
          .containsExactly(elsewhere.getVersion());
    }
  }

  /**
   * The commands for {@code model} at or after the offsets {@code group} committed (from the start
   * where it committed none): read to the end offsets there were when asked.
   */
  private List<String> uncommitted(String group, String model) throws Exception {
    Map<String, Object> kafka = new HashMap<>(h.stack.clientConfig());
    try (Admin admin = Admin.create(kafka);
        KafkaConsumer<String, byte[]> c =
            new KafkaConsumer<>(kafka, new StringDeserializer(), new ByteArrayDeserializer())) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      List<TopicPartition> parts =
          c.partitionsFor(Topics.RETRAIN_COMMANDS).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      c.assign(parts);
      for (TopicPartition tp : parts) {
        OffsetAndMetadata o = committed.get(tp);
        c.seek(tp, o == null ? 0 : o.offset());
      }
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      List<String> left = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!parts.stream().allMatch(tp -> c.position(tp) >= ends.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("retrain-commands not read to " + ends + " in 30 s");
        }
        c.poll(Duration.ofMillis(200))
            .forEach(
                r -> {
                  if (model.equals(r.key())) {
                    left.add(r.topic() + "-" + r.partition() + "@" + r.offset());
                  }
                });
      }
      return left;
    }
  }

  /**
   * A command whose runs failed fewer than {@code retrain.attempts} times runs again at the next
   * start; one that used them all does not. Both commands name an empty range, so a run of either
   * is refused at once.
   */
  @Test
  void aFailedCommandRunsAgainAtTheNextStartUntilItsAttemptsAreUsed(@TempDir Path store)
      throws Exception {
    String model = MODEL + "-failed";
    String retried = "retried-" + System.nanoTime();
    String exhausted = "exhausted-" + System.nanoTime();
    Consumer<Map<String, String>> own =
        c -> {
          c.put("model.name", model);
          c.put("artifact.store", store.toString());
          c.put("listen.group.id", "pipeline-it-" + retried);
          c.put("retrain.attempts", "3");
        };
    try (Main m = trainer(own)) {
      saveFailed(m, retried, 2);
      saveFailed(m, exhausted, 3);
      Instant from = start.minusSeconds(7200);
      Instant to = start.minusSeconds(3600);
      TrainerHarness.sendCommands(h.stack, model, from, to, exhausted);
      TrainerHarness.sendCommands(h.stack, model, from, to, retried);
      RetrainListener l = m.listen();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> runsOf(m, retried).stream().anyMatch(r -> RunRecord.REFUSED.equals(r.status)));
      l.close();
      assertThat(runsOf(m, retried)).hasSize(3);
      // the worker takes commands in order: the exhausted one was passed over before
      assertThat(runsOf(m, exhausted))
          .hasSize(3)
          .allSatisfy(r -> assertThat(r.status).isEqualTo(RunRecord.FAILED));
    }
  }

  private static void saveFailed(Main m, String command, int runs) {
    for (int i = 0; i < runs; i++) {
      saveEnded(
          m,
          "run-failed-" + i + "-" + System.nanoTime(),
          RunRecord.FAILED,
          command,
          Instant.now().minusSeconds(600 - i),
          "io.feedrank.avro.registry.RegistryUnavailableException: connection refused");
    }
  }

  /** A run record of {@code command} that ended ({@code status}) as soon as it started. */
  private static RunRecord saveEnded(
      Main m, String id, String status, String command, Instant started, String error) {
    RunRecord r = new RunRecord();
    r.id = id;
    r.status = status;
    r.commandId = command;
    r.startedAt = started.toString();
    r.finishedAt = r.startedAt;
    r.error = error;
    m.runs().save(r);
    return r;
  }

  /** The rejected mlp version a run of {@code runId} wrote. */
  private static ModelVersion rejected(String model, String runId) {
    Instant now = Instant.now();
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(runId + "-mlp")
        .setRunId(runId)
        .setStage(ModelStage.REJECTED)
        .setArchitecture("mlp")
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setArtifactUri("file:/nowhere/mlp.onnx")
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(io.feedrank.features.FeatureSchema.VERSION)
        .setDecision("REJECTED")
        .setDecisionReason("AUC 0.61 does not beat production's 0.64")
        .build();
  }

  static List<RunRecord> runsOf(Main m, String command) {
    return m.runs().list().stream()
        .filter(r -> command.equals(r.commandId))
        .sorted(java.util.Comparator.comparing((RunRecord r) -> r.startedAt).reversed())
        .toList();
  }

  static boolean read(RunRecord r) {
    return r.durationsMs.containsKey("read") && RunRecord.RUNNING.equals(r.status);
  }

  @Test
  void refusesARangeWithTooFewExamplesAndRecordsWhy() {
    try (Main m = trainer(c -> {})) {
      DataRange empty = new DataRange(start.minusSeconds(7200), start.minusSeconds(3600));
      assertThatThrownBy(() -> m.trainOnce(empty, "manual"))
          .isInstanceOf(RefusedException.class)
          .hasMessageContaining("only 0 training examples")
          .hasMessageContaining("min.examples");
      RunRecord r = m.runs().list().get(0);
      assertThat(r.status).isEqualTo(RunRecord.REFUSED);
      assertThat(r.error).contains("only 0 training examples");
    }
  }

  /**
   * Every promotion branch on the real registry topic, with real runs: a first model against the
   * logistic baseline, a crippled candidate rejected against production, an operator promotion, a
   * candidate promoted by ΔAUC ≥ 0.01, a rollback to the version it replaced, and a candidate
   * staged when the promotion threshold is set above its gain.
   */
  @Test
  void promotionBranchesOnTheRegistryTopic() throws Exception {
    RunRecord first;
    try (Main m = trainer(c -> {})) {
      first = m.trainOnce(null, "manual");
    }
    RunRecord.ModelRun mlp = first.models.get(1);
    double baseline = first.baselines.get("logistic").get("auc");
    assertThat(mlp.architecture).isEqualTo("mlp");
    assertThat(mlp.stage)
        .as("first model: production iff it beats the logistic baseline")
        .isEqualTo(mlp.metrics.get("auc") > baseline ? "PRODUCTION" : "REJECTED");
    assertThat(registry().get(mlp.version).getComparison().getAgainstVersion())
        .isEqualTo(Promotion.BASELINE);
    if (!mlp.stage.equals("PRODUCTION")) {
      promote(mlp.version, "IT: a production model for the next steps");
    }
    String p1 = mlp.version;

    // a crippled candidate (no learning) against a real production model: rejected
    RunRecord crippled;
    try (Main m =
        trainer(
            c -> {
              c.put("learning.rate", "1e-9");
              c.put("max.epochs", "1");
            })) {
      crippled = m.trainOnce(null, "manual");
    }
    String c2 = crippled.models.get(1).version;
    ModelVersion rejected = registry().get(c2);
    assertThat(rejected.getStage()).isEqualTo(ModelStage.REJECTED);
    assertThat(rejected.getComparison().getAgainstVersion()).isEqualTo(p1);
    assertThat(rejected.getComparison().getDelta()).isNegative();
    // production was scored on the same holdout: ONNX Runtime's AUC of it equals what its own run
    // measured with the training framework on that holdout (same data range, same split)
    assertThat(rejected.getComparison().getProductionValue())
        .isCloseTo(mlp.metrics.get("auc"), within(1e-4));
    assertThat(rejected.getComparison().getHoldoutExamples()).isEqualTo(first.counts.get("test"));

    // an operator puts the crippled model in production; a real candidate then gains ≥ 0.01
    promote(c2, "IT");
    assertThat(registry().get(p1).getStage()).isEqualTo(ModelStage.ARCHIVED);
    RunRecord third;
    try (Main m = trainer(c -> {})) {
      third = m.trainOnce(null, "manual");
    }
    String p3 = third.models.get(1).version;
    ModelVersion promoted = registry().get(p3);
    assertThat(promoted.getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(promoted.getComparison().getDelta()).isGreaterThanOrEqualTo(0.01);
    assertThat(promoted.getParentVersion()).isEqualTo(c2);
    assertThat(registry().get(c2).getStage()).isEqualTo(ModelStage.ARCHIVED);

    // rollback: the version p3 replaced comes back
    rollback();
    assertThat(registry().get(c2).getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(registry().get(p3).getStage()).isEqualTo(ModelStage.ARCHIVED);
    assertThat(registry().get(p3).getDecision()).isEqualTo(Promotion.DECISION_ROLLED_BACK);

    // the same gain under a threshold of 0.9: staging, for the A/B share
    RunRecord fourth;
    try (Main m = trainer(c -> c.put("promote.min.auc.gain", "0.9"))) {
      fourth = m.trainOnce(null, "manual");
    }
    ModelVersion staged = registry().get(fourth.models.get(1).version);
    assertThat(staged.getStage()).isEqualTo(ModelStage.STAGING);
    assertThat(staged.getComparison().getDelta()).isBetween(0.0, 0.9);
    assertThat(registry().get(c2).getStage()).isEqualTo(ModelStage.PRODUCTION);

    checkRunRecord(fourth, staged);
  }

  /** What a run leaves behind: run.json, artifacts matching their checksums, the profile. */
  void checkRunRecord(RunRecord run, ModelVersion v) throws Exception {
    try (Main m = trainer(c -> {})) {
      RunRecord stored = m.runs().get(run.id).orElseThrow();
      assertThat(stored.status).isEqualTo(RunRecord.SUCCEEDED);
      assertThat(stored.models).extracting(x -> x.architecture).containsExactly("logistic", "mlp");
      RunRecord.ModelRun mlp = stored.models.get(1);
      assertThat(mlp.epochs).isNotEmpty();
      assertThat(mlp.epochs.get(0)).containsKeys("train_loss", "validation_auc", "millis");
      assertThat(mlp.metrics).containsKeys("auc", "logloss", "p_at_10", "ndcg_at_10", "ece");
      assertThat((double) mlp.export.get("max_abs_diff")).isLessThanOrEqualTo(1e-5);
      assertThat(
              stored.counts.get("train")
                  + stored.counts.get("validation")
                  + stored.counts.get("test"))
          .isEqualTo(stored.counts.get("examples"));
      assertThat(stored.environment).containsKeys("java", "djl", "engine", "onnxruntime", "cores");
      assertThat(stored.durationsMs).containsKeys("read", "train_mlp", "register");
      byte[] model = Files.readAllBytes(Path.of(URI.create(v.getArtifactUri())));
      assertThat(Checksums.sha256(model)).isEqualTo(v.getArtifactSha256());
      assertThat(v.getFeatureSchemaVersion()).isEqualTo(FeatureSchema.VERSION);
      ReferenceProfile profile = v.getReferenceProfile();
      assertThat(profile.getN()).isEqualTo(stored.counts.get("test"));
      assertThat(profile.getFeatures())
          .hasSize(
              FeatureSchema.USER.size()
                  + FeatureSchema.ITEM.size()
                  + FeatureSchema.CROSS.size()
                  + 3);
      assertThat(profile.getScore()).isNotNull();
      assertThat(Files.exists(Path.of(URI.create(stored.referenceProfile)))).isTrue();
      assertThat(m.runs().list().get(0).id).isEqualTo(run.id);
    }
  }

  Map<String, ModelVersion> registry() {
    try (Main m = trainer(c -> {})) {
      Map<String, ModelVersion> out = new HashMap<>();
      m.registry().versions(MODEL).forEach(v -> out.put(v.getVersion(), v));
      return out;
    }
  }

  void promote(String version, String reason) {
    try (Main m = trainer(c -> {})) {
      new RegistryCommands(m.registry(), MODEL, Clock.systemUTC()).promote(version, reason);
    }
  }

  void rollback() {
    try (Main m = trainer(c -> {})) {
      new RegistryCommands(m.registry(), MODEL, Clock.systemUTC()).rollback();
    }
  }
}
