package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.drift.LocalCheckpoints;
import io.feedrank.events.DriftReport;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.models.profile.TrainingProfiles;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./feedrank drift} stopped as a service manager stops it (SIGTERM) in the middle of a drift
 * episode, after its retrain command, and started again: the second run goes on from the first's
 * state, so the episode's cooldown holds (no second command) and the window open at the stop is
 * reported once, with every example published for it (counted here from the published events), as
 * is every other window. Each run leaves nothing of its Flink MiniCluster in its temporary
 * directory. A second {@code ./feedrank drift} started on the state directory of a running one is
 * refused and the first goes on alone. The job runs in a child JVM of the real command line, on
 * 1-minute windows of simulated event time (~20 examples per event-second).
 */
@LocalStackTest
class DriftRestartIT {
  // kept when the test fails: the job's logs (drift-first.log, drift-second.log) and its state
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  static final long MINUTE = 60_000;

  @Test
  void aRestartMidEpisodeGoesOnFromTheStateOfTheStop(LocalStack stack) throws Exception {
    String id = "restart-" + System.nanoTime();
    String model = "drift-" + id;
    Map<String, String> topics = createTopics(stack, id);

    // the reference: the first 30 event-minutes; then 6 stationary windows, and a category shift
    // from minute 36 on: two drifted windows in a row make the command, at the end of window 37 or
    // 38 (the simulator's rate follows the hour of day, which follows the clock)
    Instant start = Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
    Instant shift = start.plusSeconds(36 * 60);
    SimulatorConfig world =
        SimulatorConfig.defaults(1, start)
            .withPopulation(2_000, 5_000)
            .withEventsPerEventSecond(20)
            .withScenario(Scenario.CATEGORY_SHIFT, shift, 0.6);
    List<TrainingExample> all = new ArrayList<>();
    SimulatedExamples sim = new SimulatedExamples(world, Long.MAX_VALUE);
    Instant end = start.plusSeconds(46 * 60);
    for (TrainingExample e = sim.next(); e.getEventTime().isBefore(end); e = sim.next()) {
      all.add(e);
    }
    int reference = firstAtOrAfter(all, start.plusSeconds(30 * 60));
    long stopAt = start.plusSeconds(40 * 60 + 30).toEpochMilli(); // window 40 half full
    int beforeStop = firstAtOrAfter(all, Instant.ofEpochMilli(stopAt));
    registerReference(stack, model, all.subList(0, reference));

    Path config = writeConfig(topics, id, model, Map.of());
    // the examples' group has offsets at the beginning, as after an earlier run of the job: the
    // first start reads what is published before its sources are assigned (else: the topic's end)
    try (Admin admin = stack.admin()) {
      Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
      int partitions =
          admin
              .describeTopics(List.of(topics.get("examples")))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get(topics.get("examples"))
              .partitions()
              .size();
      for (int i = 0; i < partitions; i++) {
        zero.put(new TopicPartition(topics.get("examples"), i), new OffsetAndMetadata(0));
      }
      admin
          .alterConsumerGroupOffsets("drift-it-" + id + "-examples", zero)
          .all()
          .get(30, TimeUnit.SECONDS);
    }

    publish(stack, topics.get("examples"), all.subList(reference, beforeStop));
    Process first = drift(stack, config, "first");
    try {
      await("the retrain command and the reports of window 39")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  !read(stack, topics.get("commands"), RetrainCommand.class).isEmpty()
                      && windowsReported(stack, topics.get("reports"))
                          .containsKey(start.toEpochMilli() + 39 * MINUTE));
    } finally {
      stop(first);
    }
    assertNoFlinkLeftIn(dir.resolve("tmp-first"));

    publish(stack, topics.get("examples"), all.subList(beforeStop, all.size()));
    Process second = drift(stack, config, "second");
    long lastClosed = start.toEpochMilli() + 44 * MINUTE; // data to minute 46, 5 s out of order
    try {
      await("the reports of window 44")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> windowsReported(stack, topics.get("reports")).containsKey(lastClosed));
    } finally {
      stop(second);
    }
    assertNoFlinkLeftIn(dir.resolve("tmp-second"));

    // one command for the episode, the first run's: the cooldown (1 h) and the episode held across
    // the restart (without the state, two drifted windows after it made another)
    List<RetrainCommand> commands = read(stack, topics.get("commands"), RetrainCommand.class);
    assertThat(commands)
        .as("retrain commands")
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getIssuedAt().toEpochMilli()).isLessThan(stopAt);
              assertThat(c.getCommandId())
                  .isEqualTo(model + "/ref-1/" + c.getIssuedAt().toEpochMilli());
            });

    // every window of item_category once, with as many values as examples published for it
    Map<Long, Long> expected = new TreeMap<>();
    for (TrainingExample e : all.subList(reference, all.size())) {
      long w = e.getEventTime().toEpochMilli() / MINUTE * MINUTE;
      if (w <= lastClosed) {
        expected.merge(w, 1L, Long::sum);
      }
    }
    Map<Long, List<Long>> got = new TreeMap<>();
    for (DriftReport r : read(stack, topics.get("reports"), DriftReport.class)) {
      if (r.getFeature().equals(TrainingProfiles.ITEM_CATEGORY)
          && r.getWindowStart().toEpochMilli() <= lastClosed) {
        got.computeIfAbsent(r.getWindowStart().toEpochMilli(), w -> new ArrayList<>())
            .add(r.getN());
      }
    }
    long open = stopAt / MINUTE * MINUTE;
    System.out.printf(
        "drift restart: item_category n per window from %s, reported %s, published %s%n",
        start, got.values(), expected.values());
    assertThat(got.get(open))
        .as("the window open at the stop, reported once with all its examples")
        .containsExactly(expected.get(open));
    Map<Long, List<Long>> want = new TreeMap<>();
    expected.forEach((w, n) -> want.put(w, List.of(n)));
    assertThat(got).as("every window once, with all its examples").isEqualTo(want);
  }

  /**
   * Two jobs on the same topics both read every record (Flink's Kafka source assigns the partitions
   * itself; the group id only names where offsets are committed), so every report, alert and
   * retrain command came out twice. A second job started on the first's state directory exits with
   * code 2, naming the first; the first goes on, and each window is reported once.
   */
  @Test
  void aSecondJobOnTheSameStateDirectoryIsRefusedAndTheFirstGoesOn(LocalStack stack)
      throws Exception {
    String id = "single-" + System.nanoTime();
    String model = "drift-" + id;
    Map<String, String> topics = createTopics(stack, id);
    Instant start = Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
    SimulatorConfig world =
        SimulatorConfig.defaults(2, start)
            .withPopulation(2_000, 5_000)
            .withEventsPerEventSecond(20);
    List<TrainingExample> all = new ArrayList<>();
    SimulatedExamples sim = new SimulatedExamples(world, Long.MAX_VALUE);
    Instant end = start.plusSeconds(44 * 60);
    for (TrainingExample e = sim.next(); e.getEventTime().isBefore(end); e = sim.next()) {
      all.add(e);
    }
    int reference = firstAtOrAfter(all, start.plusSeconds(30 * 60));
    registerReference(stack, model, all.subList(0, reference));
    Path config = writeConfig(topics, id, model, Map.of("from.earliest", "true"));
    // everything at once: a second job not refused would read it all too (from the earliest) and
    // report every window a second time
    publish(stack, topics.get("examples"), all.subList(reference, all.size()));

    Process first = drift(stack, config, "first");
    try {
      // the first holds the lock once its pid is in the lock file
      Path lockFile = dir.resolve("target").resolve("drift-state").resolve("drift.lock");
      await("the first job's lock")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  Files.exists(lockFile)
                      && Files.readString(lockFile).contains("pid=" + first.pid() + "\n"));

      Process second = drift(stack, config, "second");
      boolean exited = second.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      String log = Files.readString(dir.resolve("drift-second.log"));
      assertThat(exited).as("the second job exits on its own; its log:%n%s", log).isTrue();
      assertThat(second.exitValue()).as(log).isEqualTo(2);
      assertThat(log)
          .contains(
              "feedrank drift: another drift job holds the state directory "
                  + dir.resolve("target").resolve("drift-state")
                  + " (pid "
                  + first.pid()
                  + " on ")
          .contains("group.id drift-it-" + id);
      assertThat(first.isAlive()).as("the first job").isTrue();

      // the first goes on alone to the last window
      await("the first job's reports of window 42")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  windowsReported(stack, topics.get("reports"))
                      .containsKey(start.toEpochMilli() + 42 * MINUTE));
    } finally {
      stop(first);
    }
    assertThat(windowsReported(stack, topics.get("reports")))
        .as("item_category reports per window")
        .isNotEmpty()
        .allSatisfy((window, reports) -> assertThat(reports).isEqualTo(1L));
  }

  /**
   * A job stopped with a misspelt {@code model.name} and started again with the right one on the
   * same state directory went on from the first one's snapshot: its registry source past the record
   * of the right model's production version, which it never read, so every window waited for a
   * reference, and nothing said so. The second start is refused (exit code 2), naming the key and
   * both values, and the snapshot is left as it was.
   */
  @Test
  void aRestartWithAnotherModelNameOnTheSameStateDirectoryIsRefused(LocalStack stack)
      throws Exception {
    String id = "rename-" + System.nanoTime();
    Map<String, String> topics = createTopics(stack, id);
    Path state = dir.resolve("target").resolve("drift-state");
    Process first = drift(stack, writeConfig(topics, id, "feed-rankr-" + id, Map.of()), "first");
    try {
      await("the first job's first snapshot")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> LocalCheckpoints.newest(state).isPresent());
    } finally {
      stop(first);
    }
    Path snapshot = LocalCheckpoints.newest(state).orElseThrow();

    Process second = drift(stack, writeConfig(topics, id, "feed-ranker-" + id, Map.of()), "second");
    boolean exited = second.waitFor(60, TimeUnit.SECONDS);
    if (!exited) {
      stop(second);
    }
    String log = Files.readString(dir.resolve("drift-second.log"));
    assertThat(exited).as("the second job exits on its own; its log:%n%s", log).isTrue();
    assertThat(second.exitValue()).as(log).isEqualTo(2);
    assertThat(log)
        .contains(
            "the state directory "
                + state
                + " holds snapshots of a drift job with other settings (model.name 'feed-rankr-"
                + id
                + "' there, 'feed-ranker-"
                + id
                + "' here)");
    assertThat(LocalCheckpoints.newest(state)).contains(snapshot);
  }

  /** The job's topics for test {@code id}, by short name, created with one partition each. */
  private static Map<String, String> createTopics(LocalStack stack, String id) {
    Map<String, String> topics = new HashMap<>();
    List<Topics.TopicSpec> specs = new ArrayList<>();
    for (String[] t :
        new String[][] {
          {"examples", Topics.TRAINING_EXAMPLES},
          {"logs", Topics.RANKING_LOGS},
          {"interactions", Topics.INTERACTIONS},
          {"reports", Topics.DRIFT_REPORTS},
          {"alerts", Topics.ALERTS},
          {"commands", Topics.RETRAIN_COMMANDS},
          {"ctr", Topics.ONLINE_CTR}
        }) {
      topics.put(t[0], t[0] + "-" + id);
      // one partition each: a backlog over 12 partitions is read at uneven speeds on a loaded
      // machine, a partition not read yet is taken for idle, and its first windows' values come
      // late and are dropped (seen: 8% of the first four windows); these tests are about the job's
      // state directory
      specs.add(Topics.byName(t[1]).orElseThrow().renamed(t[0] + "-" + id).withPartitions(1));
    }
    stack.createTopics(specs);
    return topics;
  }

  /** The job's configuration file: its topics, group, 1-minute windows, and {@code extra}. */
  private Path writeConfig(
      Map<String, String> topics, String id, String model, Map<String, String> extra)
      throws IOException {
    Path config = dir.resolve("drift.properties");
    Properties p = new Properties();
    p.setProperty("model.name", model);
    p.setProperty("training.examples.topic", topics.get("examples"));
    p.setProperty("ranking.logs.topic", topics.get("logs"));
    p.setProperty("interactions.topic", topics.get("interactions"));
    p.setProperty("drift.reports.topic", topics.get("reports"));
    p.setProperty("alerts.topic", topics.get("alerts"));
    p.setProperty("retrain.commands.topic", topics.get("commands"));
    p.setProperty("online.ctr.topic", topics.get("ctr"));
    p.setProperty("group.id", "drift-it-" + id);
    p.setProperty("window.ms", "60000");
    p.setProperty("min.sample", "300");
    p.setProperty("out.of.orderness.ms", "5000");
    // the empty ranking-logs hold the watermark back only this long (wall time); shorter, and a
    // partition of examples waiting its turn in the backlog is taken for idle, its values late
    p.setProperty("idleness.ms", "5000");
    p.setProperty("checkpoint.interval.ms", "1000");
    p.setProperty("parallelism", "1");
    extra.forEach(p::setProperty);
    try (OutputStream out = Files.newOutputStream(config)) {
      p.store(out, null);
    }
    return config;
  }

  /** {@code ./feedrank drift} in a JVM of its own, as the script starts it. */
  private Process drift(LocalStack stack, Path config, String run) throws IOException {
    Path tmp = Files.createDirectories(dir.resolve("tmp-" + run));
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ProcessBuilder b =
        new ProcessBuilder(
                java,
                "-Xss2m",
                "-Xmx768m",
                "-XX:+UseParallelGC",
                "-XX:-UsePerfData",
                "-Djava.io.tmpdir=" + tmp,
                "-cp",
                classpath,
                "io.feedrank.cli.Main",
                "drift",
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl(),
                "--config",
                config.toString(),
                "--metrics-port",
                "0")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("drift-" + run + ".log").toFile());
    // the state directory by its default, under FEEDRANK_HOME: target/drift-state
    b.environment().put("FEEDRANK_HOME", dir.toString());
    b.environment().put("TMPDIR", tmp.toString());
    b.environment().remove(Endpoints.ENV_BOOTSTRAP);
    b.environment().remove(Endpoints.ENV_REGISTRY);
    return b.start();
  }

  /** SIGTERM, as Ctrl-C, systemd or a container runtime stop it; then its exit. */
  private static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the drift job did not exit within 90 s of SIGTERM");
    }
  }

  private static void assertNoFlinkLeftIn(Path tmp) throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(x -> x.getFileName().toString()).toList())
          .as("what the drift job left in its temporary directory")
          .noneMatch(
              n -> n.startsWith("flink") || n.startsWith("minicluster") || n.contains("blob"));
    }
  }

  private static int firstAtOrAfter(List<TrainingExample> examples, Instant t) {
    int i = 0;
    while (i < examples.size() && examples.get(i).getEventTime().isBefore(t)) {
      i++;
    }
    return i;
  }

  private static void registerReference(
      LocalStack stack, String model, List<TrainingExample> reference) {
    Instant now = Instant.now();
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName(model)
            .setVersion("ref-1")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(now)
            .setUpdatedAt(now)
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(1)
            .setReferenceProfile(TrainingProfiles.of(reference, null))
            .build();
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    AvroSerializer<ModelVersion> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<String, ModelVersion> producer =
        new KafkaProducer<>(p, new StringSerializer(), values)) {
      producer.send(
          new ProducerRecord<>(Topics.MODEL_REGISTRY, Topics.modelRegistryKey(model, "ref-1"), v));
    }
  }

  private static void publish(LocalStack stack, String topic, List<TrainingExample> examples) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    AvroSerializer<TrainingExample> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<Long, TrainingExample> producer =
        new KafkaProducer<>(p, new LongSerializer(), values)) {
      for (TrainingExample e : examples) {
        producer.send(
            new ProducerRecord<>(topic, null, e.getEventTime().toEpochMilli(), e.getUserId(), e));
      }
    }
  }

  /** Window start → item_category reports of it, so far. */
  private static Map<Long, Long> windowsReported(LocalStack stack, String topic) {
    Map<Long, Long> m = new TreeMap<>();
    for (DriftReport r : read(stack, topic, DriftReport.class)) {
      if (r.getFeature().equals(TrainingProfiles.ITEM_CATEGORY)) {
        m.merge(r.getWindowStart().toEpochMilli(), 1L, Long::sum);
      }
    }
    return m;
  }

  /** Every record of {@code topic} so far. */
  private static <T extends SpecificRecord> List<T> read(
      LocalStack stack, String topic, Class<T> type) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put(AvroDeserializer.VALUE_TYPE, type.getName());
    AvroDeserializer<T> values = new AvroDeserializer<>();
    values.configure(p, false);
    List<T> out = new ArrayList<>();
    try (KafkaConsumer<byte[], T> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), values)) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> endOffsets = c.endOffsets(parts);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp) < endOffsets.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end");
        }
        for (ConsumerRecord<byte[], T> r : c.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }
}
