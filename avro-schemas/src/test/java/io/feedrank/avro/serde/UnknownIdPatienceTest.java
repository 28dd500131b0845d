package io.feedrank.avro.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** How long a record of an unknown schema id is read again, on a clock of the test's. */
class UnknownIdPatienceTest {
  final AtomicLong nanos = new AtomicLong(1_000);
  final UnknownIdPatience patience = new UnknownIdPatience(Duration.ofSeconds(30), nanos::get);

  /** As a consumer throws it: Kafka's exception around the deserializer's. */
  static RecordDeserializationException unknown(int id) {
    return new RecordDeserializationException(
        RecordDeserializationException.DeserializationExceptionOrigin.VALUE,
        new TopicPartition("model-registry", 0),
        7,
        0,
        TimestampType.CREATE_TIME,
        null,
        null,
        new RecordHeaders(),
        "Error deserializing VALUE",
        new UnknownSchemaIdException(id, "unknown schema id " + id, null));
  }

  @Test
  void anUnknownIdIsReadAgainUntilItHasBeenUnknownForThePatience() {
    assertThat(patience.readAgain(unknown(5))).isTrue();
    nanos.addAndGet(Duration.ofSeconds(30).toNanos() - 1);
    assertThat(patience.readAgain(unknown(5))).isTrue();
    nanos.addAndGet(1);
    assertThat(patience.readAgain(unknown(5))).as("30 s after its first 404").isFalse();
    // from then on at once: a foreign record costs the wait once
    assertThat(patience.readAgain(unknown(5))).isFalse();
    // another id has a patience of its own
    assertThat(patience.readAgain(unknown(6))).isTrue();
  }

  @Test
  void otherFailuresAreNotReadAgain() {
    assertThat(patience.readAgain(new SerializationException("malformed Avro body"))).isFalse();
    assertThat(patience.readAgain(new RegistryUnavailableException("registry away", null)))
        .isFalse();
  }

  @Test
  void aFloodOfDistinctIdsIsNotWaitedFor() {
    for (int id = 0; id < UnknownIdPatience.MAX_IDS; id++) {
      assertThat(patience.readAgain(unknown(id))).isTrue();
    }
    assertThat(patience.readAgain(unknown(UnknownIdPatience.MAX_IDS))).isFalse();
    // those followed still are
    assertThat(patience.readAgain(unknown(0))).isTrue();
  }
}
