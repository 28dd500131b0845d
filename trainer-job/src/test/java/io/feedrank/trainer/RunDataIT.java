package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.data.KafkaExampleSource;
import io.feedrank.trainer.runs.RunRecord;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What a run records of the data it read, on the real broker: run.json's {@code data} block against
 * what an Admin client and a consumer of the test's own report, and against the published examples;
 * and a run over a range whose first records retention (here {@code deleteRecords}) has deleted
 * from one partition.
 */
@LocalStackTest
class RunDataIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long LATENESS_MS = 3_600_000; // data.lateness.ms' default

  /** A record of the topic as a read_committed consumer of the test's own read it. */
  record Read(int partition, long offset, long timestamp, TrainingExample example) {}

  /**
   * Examples over 3 partitions (and an aborted transaction, which no one reads): a run records per
   * partition the log's start, the offsets it read from and to and the records it read, as the
   * broker reports them to other clients, the cluster id, and a digest of its examples equal to one
   * computed here from the published examples. Then the first half of partition 0 is deleted and
   * the same range run again: the run succeeds on what is left, but records partition 0 as trimmed,
   * warns naming it and its first remaining timestamp, counts it, and its digest is that of the
   * examples left. (The run succeeded without a word, and its record said nothing of it.)
   */
  @Test
  void aRunRecordsWhatItReadAndARangeTrimmedByRetention(LocalStack stack, @TempDir Path store)
      throws Exception {
    TrainerHarness h = new TrainerHarness(stack, store);
    String topic = "run-data-it-" + UUID.randomUUID();
    Instant from = TrainerHarness.recentHour();
    List<TrainingExample> published = TrainerHarness.examples(from, 10_000, 21);
    Instant to = published.get(published.size() - 1).getEventTime().plusMillis(1);
    DataRange range = new DataRange(from, to);
    String clusterId;
    try (Admin admin = stack.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
      clusterId = admin.describeCluster().clusterId().get();
    }
    h.publish(topic, published, false);
    h.publish(topic, TrainerHarness.examples(from, 1_000, 22), true);
    List<Read> all = readAll(stack, topic);
    assertThat(all).hasSize(published.size());

    SoftAssertions soft = new SoftAssertions();
    JsonNode first = run(h, topic, range, soft, 0);
    checkData(soft, first, topic, clusterId, stack, all);
    soft.assertThat(first.at("/data/trimmed_partitions")).as("trimmed, untouched").isEmpty();
    soft.assertThat(first.at("/data/examples_digest").asText())
        .as("digest of the published examples")
        .isEqualTo(digest(published));

    List<Read> p0 = all.stream().filter(r -> r.partition() == 0).toList();
    Read firstLeft = p0.get(p0.size() / 2);
    try (Admin admin = stack.admin()) {
      admin
          .deleteRecords(
              Map.of(
                  new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(firstLeft.offset())))
          .all()
          .get();
    }
    List<Read> left =
        all.stream().filter(r -> r.partition() != 0 || r.offset() >= firstLeft.offset()).toList();
    assertThat(readAll(stack, topic)).hasSameElementsAs(left);

    List<String> warnings = new ArrayList<>();
    JsonNode second = warnings(warnings, () -> run(h, topic, range, soft, 1));
    checkData(soft, second, topic, clusterId, stack, left);
    soft.assertThat(second.at("/data/partitions/0/log_start_offset").asLong())
        .isEqualTo(firstLeft.offset());
    soft.assertThat(second.at("/data/trimmed_partitions"))
        .as("trimmed partitions of the run after the delete")
        .extracting(JsonNode::asInt)
        .containsExactly(0);
    soft.assertThat(second.at("/data/examples_digest").asText())
        .as("digest of the examples left")
        .isEqualTo(digest(left.stream().map(Read::example).toList()))
        .isNotEqualTo(first.at("/data/examples_digest").asText());
    soft.assertThat(warnings)
        .as("warnings of the run after the delete")
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains(topic + "-0 has no records before offset " + firstLeft.offset())
                    .contains(Instant.ofEpochMilli(firstLeft.timestamp()).toString()));
    soft.assertAll();
  }

  /**
   * Trains once on {@code range} of {@code topic}, checks the run succeeded and counted {@code
   * trimmed} trimmed partitions, and returns its run.json as written.
   */
  private static JsonNode run(
      TrainerHarness h, String topic, DataRange range, SoftAssertions soft, int trimmed)
      throws Exception {
    Map<String, String> c = h.config(range.from(), range.to());
    c.put("model.name", "run-data-it");
    c.put("training.examples.topic", topic);
    // what the run read is the subject, not the model: the smallest network, one epoch
    c.put("max.epochs", "1");
    c.put("mlp.layers", "16,8");
    try (Main m = new Main(TrainerConfig.from(c), Clock.systemUTC())) {
      RunRecord run = m.trainOnce(range, "manual");
      soft.assertThat(run.status).isEqualTo(RunRecord.SUCCEEDED);
      soft.assertThat(m.metrics().registry().counter("trainer.data.trimmed.partitions").count())
          .as("trainer.data.trimmed.partitions")
          .isEqualTo(trimmed);
      return JSON.readTree(h.artifacts.resolve(run.id).resolve("run.json").toFile());
    }
  }

  /**
   * The data block of {@code run} against the offsets the broker gives an Admin client (the log's
   * start, its end, and the offset of {@code from − lateness}), the records {@code read} of each
   * partition from its start (every one is stamped after {@code from − lateness}), and their event
   * times.
   */
  private static void checkData(
      SoftAssertions soft,
      JsonNode run,
      String topic,
      String clusterId,
      LocalStack stack,
      List<Read> read)
      throws Exception {
    JsonNode data = run.path("data");
    soft.assertThat(data.path("topic").asText()).as("data.topic").isEqualTo(topic);
    soft.assertThat(data.path("cluster_id").asText()).as("data.cluster_id").isEqualTo(clusterId);
    soft.assertThat(data.path("lateness_ms").asLong()).as("lateness").isEqualTo(LATENESS_MS);
    Map<Integer, Long> logStart = offsets(stack, topic, OffsetSpec.earliest());
    Map<Integer, Long> end = offsets(stack, topic, OffsetSpec.latest());
    Map<Integer, Long> startAt =
        offsets(stack, topic, OffsetSpec.forTimestamp(rangeFrom(run) - LATENESS_MS));
    soft.assertThat(startAt.values()).allMatch(o -> o >= 0);
    soft.assertThat(data.path("partitions")).as("data.partitions").hasSize(3);
    for (JsonNode p : data.path("partitions")) {
      int n = p.path("partition").asInt();
      String at = "partition " + n + " ";
      soft.assertThat(p.path("log_start_offset").asLong()).as(at).isEqualTo(logStart.get(n));
      soft.assertThat(p.path("start_offset").asLong()).as(at).isEqualTo(startAt.get(n));
      soft.assertThat(p.path("end_offset").asLong()).as(at).isEqualTo(end.get(n));
      soft.assertThat(p.path("records_read").asLong())
          .as(at + "records read")
          .isEqualTo(read.stream().filter(r -> r.partition() == n).count());
    }
    var times =
        read.stream().mapToLong(r -> r.example().getEventTime().toEpochMilli()).summaryStatistics();
    soft.assertThat(data.path("min_event_time").asText())
        .isEqualTo(Instant.ofEpochMilli(times.getMin()).toString());
    soft.assertThat(data.path("max_event_time").asText())
        .isEqualTo(Instant.ofEpochMilli(times.getMax()).toString());
  }

  private static long rangeFrom(JsonNode run) {
    return Instant.parse(run.path("dataFrom").asText()).toEpochMilli();
  }

  /**
   * The digest run.json documents, computed here: the sum modulo 2^64 of MurmurHash3's finalizer
   * chained over user id, item id, event time (ms) and click (1/0), as 16 hex digits.
   */
  private static String digest(List<TrainingExample> examples) {
    long sum = 0;
    for (TrainingExample e : examples) {
      long h = fmix64(e.getUserId());
      h = fmix64(h ^ e.getItemId());
      h = fmix64(h ^ e.getEventTime().toEpochMilli());
      sum += fmix64(h ^ (e.getClick() ? 1 : 0));
    }
    return String.format(Locale.ROOT, "%016x", sum);
  }

  /** MurmurHash3's fmix64, as published (Appleby, MurmurHash3.cpp). */
  private static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb93fe53b1a85L;
    k ^= k >>> 33;
    return k;
  }

  /** Every record of {@code topic} a read_committed consumer reads, to the end offsets of now. */
  private static List<Read> readAll(LocalStack stack, String topic) throws Exception {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<Long, TrainingExample> c =
        new KafkaConsumer<>(
            p,
            new LongDeserializer(),
            AvroSerdes.valueSerde(stack.registryClient(), TrainingExample.class).deserializer())) {
      List<TopicPartition> parts =
          List.of(0, 1, 2).stream().map(n -> new TopicPartition(topic, n)).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      List<Read> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!parts.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(topic + " not read to " + end + " in 60 s");
        }
        for (ConsumerRecord<Long, TrainingExample> r : c.poll(Duration.ofMillis(200))) {
          out.add(new Read(r.partition(), r.offset(), r.timestamp(), r.value()));
        }
      }
      return out;
    }
  }

  /** Each partition's offset for {@code spec}, as the broker answers an Admin client. */
  private static Map<Integer, Long> offsets(LocalStack stack, String topic, OffsetSpec spec)
      throws Exception {
    Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
    for (int n = 0; n < 3; n++) {
      ask.put(new TopicPartition(topic, n), spec);
    }
    try (Admin admin = stack.admin()) {
      Map<Integer, Long> out = new HashMap<>();
      admin.listOffsets(ask).all().get().forEach((tp, o) -> out.put(tp.partition(), o.offset()));
      return out;
    }
  }

  /** What may throw: a test's body. */
  interface Body<T> {
    T run() throws Exception;
  }

  /** Runs {@code body}, adding the WARN messages of {@link KafkaExampleSource} to {@code out}. */
  private static <T> T warnings(List<String> out, Body<T> body) throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(KafkaExampleSource.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      return body.run();
    } finally {
      logger.detachAppender(logs);
      logs.list.stream()
          .filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage)
          .forEach(out::add);
    }
  }
}
