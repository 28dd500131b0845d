package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RankingLog;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The closed loop end to end on the real local stack, smaller than {@code ./feedrank demo}: every
 * phase's outcome is checked against the topics themselves, read here with plain consumers, and
 * against what the feed client (an independent HTTP client) saw.
 */
class ClosedLoopIT {
  @Test
  void theLoopDetectsTheDriftRetrainsOnceAndSwapsWithoutFailedRequests() throws Exception {
    Path dir = Path.of("target", "closed-loop-it-" + System.nanoTime());
    DemoConfig config = DemoConfig.defaults(dir).with(150_000, 1_000, Duration.ofSeconds(8), 10);
    AtomicReference<Observed> observed = new AtomicReference<>();
    StringWriter console = new StringWriter();
    Demo demo =
        new Demo(config, new PrintWriter(console), false)
            .inspectBeforeStop(p -> observed.set(observe(p.clientConfig(), p.ranker().metrics())));
    DemoReport report;
    try {
      report = demo.run();
    } catch (Demo.Failure f) {
      throw new AssertionError(
          "demo failed in " + f.phase() + ": " + f.getMessage() + "\n" + console, f);
    }
    Observed o = observed.get();

    // counts in = training examples + dead letters, counted here from the topics
    assertThat(o.interactions).isGreaterThan(config.historyEvents());
    assertThat(o.interactions).isEqualTo(o.examples + o.deadLetters);
    long perKind = config.badRecordsPerKind();
    assertThat(o.deadLetters).isEqualTo(3 * perKind);
    assertThat(o.deadLetterCodes)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "DESERIALIZATION",
                perKind,
                "NEGATIVE_USER_ID",
                perKind,
                "DWELL_OUT_OF_RANGE",
                perKind));

    // first model: promoted, with an AUC above the logistic baseline trained beside it
    Map<String, Object> first = report.models.get(0);
    // ... trained on the example of every history event (the malformed ones went to the DLQ): the
    // history phase waits until streams-features has processed all of it, repartition included
    assertThat(first.get("examples")).isEqualTo(config.historyEvents());
    // the version's first record holds the decision; later ones its later stages (ARCHIVED)
    ModelVersion firstRecord = o.history.get((String) first.get("version")).get(0);
    assertThat(firstRecord.getDecision()).isEqualTo("PROMOTED");
    assertThat(firstRecord.getComparison().getAgainstVersion()).isEqualTo("logistic-baseline");
    assertThat(firstRecord.getComparison().getCandidateValue())
        .isGreaterThan(firstRecord.getComparison().getProductionValue());

    // exactly one retrain command for the episode, naming the shifted feature
    assertThat(o.commandIds).hasSize(1);
    RetrainCommand command = o.commands.get(0);
    assertThat(command.getEvidence()).anyMatch(e -> e.getFeature().equals("item_category"));
    assertThat(command.getIssuedAt())
        .isAfterOrEqualTo(
            java.time.Instant.parse((String) report.drift.get("started_at_event_time")));

    // the retrained model's decision is recorded with its comparison against production
    String retrained = (String) report.retrain.get("version");
    ModelVersion r = o.registry.get(retrained);
    assertThat(r.getDecisionReason()).isNotBlank();
    assertThat(r.getComparison().getAgainstVersion()).isEqualTo(firstRecord.getVersion());
    assertThat(r.getComparison().getHoldoutExamples()).isPositive();
    // trained mostly on the shifted regime (retrain.settle.ms), it beats the first model on the
    // post-shift holdout by far more than the 0.01 promotion step (measured +0.10 and +0.11), so
    // the swap under traffic is exercised on every run
    assertThat(r.getDecision()).as(r.getDecisionReason()).isEqualTo("PROMOTED");
    assertThat(r.getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(o.registry.get(firstRecord.getVersion()).getStage()).isEqualTo(ModelStage.ARCHIVED);
    // the ranker served both versions: its own logs say so
    assertThat(o.loggedVersions).contains(firstRecord.getVersion(), retrained);

    // zero failed requests across the run, the swap included, as the HTTP client saw them
    assertThat(report.ranker.get("http_5xx")).isEqualTo(0L);
    assertThat(report.ranker.get("transport_errors")).isEqualTo(0L);
    assertThat((Long) report.ranker.get("ok")).isEqualTo((Long) report.ranker.get("requests"));
    assertThat(o.loggedVersions).contains(firstRecord.getVersion());
    // ... and as the ranker counted them: every request it answered was a 200, as many as the
    // client
    // sent (a request lost on the way, or answered otherwise, would leave the two apart)
    assertThat(o.rankStatuses).containsOnlyKeys("200");
    assertThat(o.rankStatuses.get("200")).isEqualTo((Long) report.ranker.get("requests"));
    // every response logged: on the topic, or counted as dropped (a full queue) or failed
    assertThat(o.rankingLogs + o.logsLost).isEqualTo((Long) report.ranker.get("requests"));

    assertThat(dir.resolve("report.json")).exists();
    assertThat(dir.resolve("report.md")).content().contains("Drift episode", "item_category");
  }

  /** What the topics hold at the end, read independently of the demo's own reader. */
  record Observed(
      long interactions,
      long examples,
      long deadLetters,
      Map<String, Long> deadLetterCodes,
      List<RetrainCommand> commands,
      Set<String> commandIds,
      Map<String, ModelVersion> registry,
      Map<String, List<ModelVersion>> history,
      Set<String> loggedVersions,
      Map<String, Long> rankStatuses,
      long rankingLogs,
      long logsLost) {}

  static Observed observe(Map<String, Object> client, MeterRegistry ranker) {
    Map<String, Long> statuses = new TreeMap<>();
    ranker.find("ranker.requests").tag("endpoint", "/v1/rank").counters().stream()
        .filter(c -> c.count() > 0) // the usual statuses are exported at 0 from the start
        .forEach(c -> statuses.merge(c.getId().getTag("status"), (long) c.count(), Long::sum));
    long answered = statuses.values().stream().mapToLong(Long::longValue).sum();
    // the logger sends after the response: wait until it has settled every one
    Awaitility.await("the ranking logger settling every response")
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(ranker, "ranker.log.sent") + lost(ranker) >= answered);
    List<RetrainCommand> commands = read(client, Topics.RETRAIN_COMMANDS, RetrainCommand.class);
    Set<String> ids = new HashSet<>();
    commands.forEach(c -> ids.add(c.getCommandId()));
    Map<String, ModelVersion> registry = new LinkedHashMap<>();
    Map<String, List<ModelVersion>> history = new LinkedHashMap<>();
    for (ModelVersion v : read(client, Topics.MODEL_REGISTRY, ModelVersion.class)) {
      registry.put(v.getVersion(), v); // the latest record per version is its state
      history.computeIfAbsent(v.getVersion(), k -> new ArrayList<>()).add(v);
    }
    Map<String, Long> codes = new HashMap<>();
    read(client, Topics.INTERACTIONS_DLQ, DeadLetter.class)
        .forEach(d -> codes.merge(d.getErrorCode(), 1L, Long::sum));
    Set<String> versions = new HashSet<>();
    List<RankingLog> logs = read(client, Topics.RANKING_LOGS, RankingLog.class);
    logs.forEach(l -> versions.add(l.getModelVersion()));
    return new Observed(
        raw(client, Topics.INTERACTIONS).size(),
        read(client, Topics.TRAINING_EXAMPLES, TrainingExample.class).size(),
        raw(client, Topics.INTERACTIONS_DLQ).size(),
        codes,
        commands,
        ids,
        registry,
        history,
        versions,
        statuses,
        logs.size(),
        lost(ranker));
  }

  private static long count(MeterRegistry metrics, String counter) {
    return (long) metrics.get(counter).counter().count();
  }

  private static long lost(MeterRegistry ranker) {
    return count(ranker, "ranker.log.drops") + count(ranker, "ranker.log.failures");
  }

  static <T extends SpecificRecord> List<T> read(
      Map<String, Object> client, String topic, Class<T> type) {
    Map<String, Object> c = new HashMap<>(client);
    c.put(AvroDeserializer.VALUE_TYPE, type.getName());
    try (AvroDeserializer<T> d = new AvroDeserializer<>()) {
      d.configure(c, false);
      List<T> out = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : raw(client, topic)) {
        out.add(d.deserialize(topic, r.value()));
      }
      return out;
    }
  }

  static List<ConsumerRecord<byte[], byte[]>> raw(Map<String, Object> client, String topic) {
    Map<String, Object> c = new HashMap<>(client);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer
          .partitionsFor(topic)
          .forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        assertThat(System.nanoTime()).as("reading %s", topic).isLessThan(deadline);
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }
}
