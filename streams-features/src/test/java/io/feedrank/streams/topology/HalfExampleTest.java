package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class HalfExampleTest {
  static final String TOPIC = "app-by-item-repartition";

  static InteractionEvent event(String requestId, Integer position) {
    return InteractionEvent.newBuilder()
        .setInteractionId("ünïcode-id-1")
        .setUserId(42)
        .setItemId(7_000_000_001L)
        .setEventTime(Instant.parse("2026-11-30T23:59:59.999Z"))
        .setClick(true)
        .setLike(false)
        .setShare(true)
        .setDwellSeconds(12.5f)
        .setDevice(Device.TABLET)
        .setRequestId(requestId)
        .setPosition(position)
        .build();
  }

  static void assertSame(HalfExample got, HalfExample expected) {
    assertThat(got.event()).isEqualTo(expected.event());
    assertThat(got.category()).isEqualTo(expected.category());
    assertThat(bits(got.user())).isEqualTo(bits(expected.user()));
    assertThat(bits(got.cross())).isEqualTo(bits(expected.cross()));
  }

  static long[] bits(double[] v) {
    return Arrays.stream(v).mapToLong(Double::doubleToRawLongBits).toArray();
  }

  @Test
  void roundTripsBitForBit() {
    Serde<HalfExample> serde = HalfExample.serde();
    HalfExample[] cases = {
      new HalfExample(
          event("req-9", 3),
          "música/日本",
          new double[] {0.1, -0.0, Double.MIN_VALUE, Double.NaN, 1e300, 7},
          new double[] {Double.POSITIVE_INFINITY, 2.5}),
      new HalfExample(event(null, null), "", new double[0], new double[0]),
    };
    for (HalfExample h : cases) {
      byte[] bytes = serde.serializer().serialize(TOPIC, h);
      assertThat(bytes[0]).isEqualTo((byte) 1);
      assertSame(serde.deserializer().deserialize(TOPIC, bytes), h);
    }
    assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
    assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
  }

  /** Records an older version of the app left in the topic: half-built training examples. */
  @Test
  void readsTheHalfBuiltTrainingExamplesOfTheFormerFormat() {
    InteractionEvent e = event("req-1", 0);
    TrainingExample old =
        TrainingExample.newBuilder()
            .setInteractionId(e.getInteractionId())
            .setUserId(e.getUserId())
            .setItemId(e.getItemId())
            .setEventTime(e.getEventTime())
            .setDevice(e.getDevice())
            .setRequestId(e.getRequestId())
            .setPosition(e.getPosition())
            .setItemCategory("sports")
            .setHourOfDay(23)
            .setDayOfWeek(1)
            .setFeatureSchemaVersion(1)
            .setUserFeatures(List.of(1.5, 0.25))
            .setItemFeatures(List.of())
            .setCrossFeatures(List.of(3.0))
            .setClick(e.getClick())
            .setLike(e.getLike())
            .setShare(e.getShare())
            .setDwellSeconds(e.getDwellSeconds())
            .build();
    byte[] bytes = StateSerdes.plainAvro(TrainingExample.class).serializer().serialize(TOPIC, old);
    assertThat(bytes[0] % 2).as("an Avro string length, zigzag: even").isZero();
    assertSame(
        HalfExample.serde().deserializer().deserialize(TOPIC, bytes),
        new HalfExample(e, "sports", new double[] {1.5, 0.25}, new double[] {3.0}));
  }

  @Test
  void corruptBytesFailAsASerializationError() {
    Serde<HalfExample> serde = HalfExample.serde();
    byte[] bytes =
        serde
            .serializer()
            .serialize(
                TOPIC, new HalfExample(event(null, null), "x", new double[4], new double[1]));
    assertThatThrownBy(
            () -> serde.deserializer().deserialize(TOPIC, Arrays.copyOf(bytes, bytes.length - 10)))
        .isInstanceOf(SerializationException.class);
    byte[] badCount = bytes.clone();
    badCount[1] = 0x7F;
    assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, badCount))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(TOPIC);
  }
}
