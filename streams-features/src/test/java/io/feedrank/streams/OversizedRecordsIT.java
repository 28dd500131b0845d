package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Records near the producer's size limit, on the real broker: one the registry cannot read, whose
 * dead letter (the raw bytes plus the reason) would be larger than the limit, and one that is valid
 * Avro with an interaction_id so long that its training example would be. Each once failed the
 * stream thread at every replay, and the partition's later events never came out. Now both are
 * dead-lettered and the next event of the same partition is processed.
 */
@LocalStackTest
@ExtendWith(StreamThreadsMayFail.class)
class OversizedRecordsIT {
  static final int LIMIT = 100_000;

  @Test
  void recordsTooLargeToPassOnAreDeadLetteredAndThePartitionGoesOn(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    Map<String, String> p = h.properties();
    p.put("kafka.producer.max.request.size", Integer.toString(LIMIT));
    FeaturesHarness.replaceFailedThreadsSoon(p);
    long user = 7;
    Instant t = Instant.parse("2026-11-02T06:00:00Z");
    byte[] garbage = new byte[LIMIT - 200];
    new Random(5).nextBytes(garbage);
    garbage[0] = 9; // not the wire format's magic byte
    InteractionEvent longId = event(user, "x".repeat(LIMIT - 1_000), t);
    InteractionEvent after = event(user, "after", t.plusSeconds(60));

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
        producer.send(new ProducerRecord<>(topic, null, t.toEpochMilli(), key, garbage)).get();
        producer
            .send(
                new ProducerRecord<>(
                    topic, null, t.toEpochMilli(), key, ser.serialize(topic, longId)))
            .get();
        producer
            .send(
                new ProducerRecord<>(
                    topic,
                    null,
                    after.getEventTime().toEpochMilli(),
                    key,
                    ser.serialize(topic, after)))
            .get();
      }

      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(1, Duration.ofSeconds(60));
      assertThat(examples).hasSize(1);
      assertThat(examples.get(0).value().getInteractionId()).isEqualTo("after");

      List<DeadLetter> dead = h.deadLetters(2);
      dead.sort(Comparator.comparingLong(DeadLetter::getSourceOffset));
      assertThat(dead)
          .extracting(DeadLetter::getErrorCode)
          .containsExactly("DESERIALIZATION", "ID_TOO_LONG");
      DeadLetter cut = dead.get(0);
      byte[] kept = bytes(cut.getRawValue());
      assertThat(kept.length).isLessThan(garbage.length);
      assertThat(kept).isEqualTo(Arrays.copyOf(garbage, kept.length));
      assertThat(cut.getErrorMessage())
          .contains("of their 8 and " + garbage.length + " bytes")
          .contains(h.topics.interactions() + "-");
      assertThat(dead.get(1).getErrorMessage())
          .contains("interaction_id has " + longId.getInteractionId().length() + " characters");
      assertThat(app.failed()).isNotDone();
    }
  }

  private static InteractionEvent event(long user, String id, Instant at) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(3)
        .setEventTime(at)
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(4f)
        .build();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
