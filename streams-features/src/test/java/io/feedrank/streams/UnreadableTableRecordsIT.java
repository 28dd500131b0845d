package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An unreadable record on the {@code items} table (bytes that are not the wire format) is logged
 * and skipped, and the item keeps the metadata it had: while the app runs, and also after a
 * restart, when the global table is rebuilt from the topic. Kafka Streams copies a table's records
 * into its store as they are when it restores it, without the deserialization handler.
 */
@LocalStackTest
@ExtendWith(StreamThreadsMayFail.class)
class UnreadableTableRecordsIT {
  static final int EVENTS = 500;

  @Test
  void anUnreadableItemRecordIsSkippedWhileRunningAndAfterARestart(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(17, 100, 200, EVENTS);
    Map<String, String> p = h.properties();
    FeaturesHarness.replaceFailedThreadsSoon(p);
    TrainingExample seen;
    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
      seen = h.trainingExamples(EVENTS, Duration.ofMinutes(2)).get(0).value();
    }
    long item = seen.getItemId();
    String category = seen.getItemCategory();
    assertThat(category).isNotEmpty();

    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      // the item's metadata, overwritten by bytes no one can read
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.items(),
                  FeaturesHarness.longBytes(item),
                  "not the wire format".getBytes()))
          .get();
    }

    // read at runtime, then restored at the next start: both times the item keeps its category
    for (int round = 1; round <= 2; round++) {
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
        InteractionEvent e = event(seen, item, round);
        send(stack, h, e);
        List<ConsumerRecord<Long, TrainingExample>> examples =
            h.trainingExamples(EVENTS + round, Duration.ofSeconds(60));
        assertThat(examples).hasSize(EVENTS + round);
        TrainingExample got =
            examples.stream()
                .map(ConsumerRecord::value)
                .filter(x -> x.getInteractionId().equals(e.getInteractionId()))
                .findFirst()
                .orElseThrow();
        assertThat(got.getItemCategory()).as("round %d", round).isEqualTo(category);
        assertThat(app.failed()).isNotDone();
        // and counted where the FeaturesRecordsDropped alert looks, within the metrics' refresh
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> assertThat(droppedRecords(app.metrics().scrape())).isGreaterThanOrEqualTo(1));
      }
    }
  }

  /** The sum of {@code kafka_stream_task_dropped_records_total} in a Prometheus scrape. */
  static double droppedRecords(String scrape) {
    return scrape
        .lines()
        .filter(l -> l.startsWith("kafka_stream_task_dropped_records_total{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static InteractionEvent event(TrainingExample after, long item, int round) {
    return InteractionEvent.newBuilder()
        .setInteractionId("after-restart-" + round)
        .setUserId(after.getUserId())
        .setItemId(item)
        .setEventTime(after.getEventTime().plusSeconds(3_600L * round))
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(12f)
        .build();
  }

  private static void send(LocalStack stack, FeaturesHarness h, InteractionEvent e)
      throws Exception {
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
    try (KafkaProducer<byte[], byte[]> producer = FeaturesHarness.rawProducer(stack)) {
      producer
          .send(
              new ProducerRecord<>(
                  h.topics.interactions(),
                  null,
                  e.getEventTime().toEpochMilli(),
                  FeaturesHarness.longBytes(e.getUserId()),
                  ser.serialize(h.topics.interactions(), e)))
          .get();
    }
  }
}
