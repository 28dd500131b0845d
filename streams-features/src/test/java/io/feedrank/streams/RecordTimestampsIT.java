package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.streams.topology.FeatureTopology;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;

/**
 * Records stamped two hours ahead of the clock on an {@code interactions} topic that takes them
 * (its {@code message.timestamp.after.max.ms} raised, as the local broker's is), while the output
 * and internal topics keep Kafka 4's default of one hour. The app stamped its outputs with the
 * input's timestamp: the broker refused the first one, the production exception handler failed the
 * stream thread, and its replacement failed on the same record, for ever. Now the outputs are
 * stamped at the clock and the partition goes on.
 */
@LocalStackTest
class RecordTimestampsIT {
  static final String ONE_HOUR = Long.toString(Duration.ofHours(1).toMillis());

  @Test
  void recordsStampedHoursAheadAreProcessedAndTheirOutputsTakenByTopicsOfAnHour(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    oneHourAhead(stack, List.of(h.topics.trainingExamples(), h.topics.deadLetters()));
    Map<String, String> p = h.properties();
    // the repartition topic and the changelogs, which Kafka Streams creates
    p.put("kafka.topic." + TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, ONE_HOUR);
    FeaturesHarness.replaceFailedThreadsSoon(p);
    long user = 11;
    long ahead = System.currentTimeMillis() + Duration.ofHours(2).toMillis();
    InteractionEvent early = event(user, "early", ahead - 60_000, 4f);
    InteractionEvent badDwell = event(user, "bad-dwell", ahead, -1f);
    long now = System.currentTimeMillis();
    InteractionEvent present = event(user, "present", now, 2f);

    try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p))) {
      AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", stack.bootstrapServers()),
              new ByteArraySerializer(),
              new ByteArraySerializer())) {
        // one key: one partition, in this order
        byte[] key = ByteBuffer.allocate(8).putLong(user).array();
        String topic = h.topics.interactions();
        for (var e : List.of(early, badDwell)) {
          producer
              .send(new ProducerRecord<>(topic, null, ahead, key, ser.serialize(topic, e)))
              .get();
        }
        producer.send(new ProducerRecord<>(topic, null, now, key, ser.serialize(topic, present)));
      }

      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(2, Duration.ofSeconds(60));
      assertThat(examples)
          .extracting(r -> r.value().getInteractionId())
          .containsExactly("early", "present");
      long read = System.currentTimeMillis();
      // "early" at the clock (when processed) plus output.max.ahead.of.clock.ms; "present" its own
      long bound = FeatureTopology.Settings.DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK.toMillis();
      assertThat(examples.get(0).timestamp()).isBetween(now + bound, read + bound);
      assertThat(examples.get(1).timestamp()).isEqualTo(now);
      List<DeadLetter> dead = h.deadLetters(1);
      assertThat(dead).extracting(DeadLetter::getErrorCode).containsExactly("DWELL_OUT_OF_RANGE");
      assertThat(dead.get(0).getSourceTimestamp()).isEqualTo(Instant.ofEpochMilli(ahead));

      // no stream thread failed and was replaced
      assertThat(app.failed()).isNotDone();
      assertThat(app.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
      assertThat(app.streams().metadataForLocalThreads())
          .extracting(ThreadMetadata::threadName)
          .singleElement()
          .asString()
          .endsWith("-StreamThread-1");
      assertThat(
              app.metrics()
                  .get("features.events.restamped")
                  .tag("timestamp", "ahead_of_clock")
                  .counter()
                  .count())
          .isEqualTo(2.0);
    }
  }

  /** Sets the topics' {@code message.timestamp.after.max.ms} to Kafka 4's default of one hour. */
  private static void oneHourAhead(LocalStack stack, Collection<String> topics) throws Exception {
    try (Admin admin = stack.admin()) {
      Map<ConfigResource, Collection<AlterConfigOp>> ops = new java.util.HashMap<>();
      for (String t : topics) {
        ops.put(
            new ConfigResource(ConfigResource.Type.TOPIC, t),
            List.of(
                new AlterConfigOp(
                    new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, ONE_HOUR),
                    AlterConfigOp.OpType.SET)));
      }
      admin.incrementalAlterConfigs(ops).all().get(30, TimeUnit.SECONDS);
    }
  }

  private static InteractionEvent event(long user, String id, long at, float dwellSeconds) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(3)
        .setEventTime(Instant.ofEpochMilli(at))
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(dwellSeconds)
        .build();
  }
}
