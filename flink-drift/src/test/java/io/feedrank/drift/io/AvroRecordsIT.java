package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.drift.job.Report;
import io.feedrank.events.DriftReport;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A drift report of a window that closed two hours ahead of the clock (a stream that runs ahead,
 * {@code max.ahead.of.clock.ms} raised), as the job's sink writes it, on a real topic with Kafka
 * 4's default {@code message.timestamp.after.max.ms} of an hour (the local broker's own takes any
 * timestamp). Stamped with its window's end, it was refused (InvalidTimestampException), which
 * failed the job at every flush after a restore.
 */
@LocalStackTest
class AvroRecordsIT {
  static final long HOUR = 3_600_000;

  @Test
  void aReportOfAWindowTwoHoursAheadIsTakenByATopicThatRefusesAnHourAhead(LocalStack stack)
      throws Exception {
    String topic = "drift-reports-" + UUID.randomUUID();
    try (Admin admin = stack.admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1)
                      .configs(
                          Map.of(
                              TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG,
                              Long.toString(HOUR)))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    Map<String, String> registry = Map.of(RegistryConfig.URL, stack.registryUrl());
    AvroRecords<Report, DriftReport> records =
        new AvroRecords<>(topic, registry, Contracts::report, r -> r.feature);
    records.open(null, null);
    long windowEnd = System.currentTimeMillis() + 2 * HOUR;

    long before = System.currentTimeMillis();
    ProducerRecord<byte[], byte[]> out = records.serialize(report(windowEnd), null, windowEnd - 1);
    long after = System.currentTimeMillis();
    RecordMetadata written;
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            new HashMap<>(stack.clientConfig()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      written = producer.send(out).get(30, TimeUnit.SECONDS);
    }

    assertThat(written.timestamp())
        .isBetween(
            before + AvroRecords.MAX_AHEAD_OF_CLOCK_MILLIS,
            after + AvroRecords.MAX_AHEAD_OF_CLOCK_MILLIS);
    // the window is in the value, whatever the timestamp
    Map<String, Object> c = new HashMap<>(registry);
    c.put(AvroDeserializer.VALUE_TYPE, DriftReport.class.getName());
    try (AvroDeserializer<DriftReport> values = new AvroDeserializer<>()) {
      values.configure(c, false);
      assertThat(values.deserialize(topic, out.value()).getWindowEnd())
          .isEqualTo(Instant.ofEpochMilli(windowEnd));
    }
  }

  private static Report report(long windowEnd) {
    Report r = new Report();
    r.windowStart = windowEnd - 300_000;
    r.windowEnd = windowEnd;
    r.modelName = "feed-ranker";
    r.referenceVersion = "v1";
    r.feature = "device";
    r.kind = "CATEGORICAL";
    r.n = 600;
    r.sampleSize = 600;
    return r;
  }
}
