package io.feedrank.avro.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WireFormatTest {

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, 2, 3, 4})
  void payloadShorterThanTheHeaderIsRejected(int length) {
    byte[] payload = new byte[length]; // all zero: a valid magic byte when present

    assertThatThrownBy(() -> WireFormat.schemaId(payload, "clicks"))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("'clicks'")
        .hasMessageContaining("is " + length + " bytes")
        .hasMessageContaining("shorter than");
  }

  @Test
  void headerOnlyIsLongEnough() {
    assertThat(WireFormat.schemaId(new byte[] {0, 0, 0, 0, 9}, "t")).isEqualTo(9);
  }

  @Test
  void magicByteOneIsRejectedWithItsHexValue() {
    assertThatThrownBy(() -> WireFormat.schemaId(new byte[] {1, 0, 0, 0, 1, 0}, "clicks"))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("0x01")
        .hasMessageContaining("'clicks'");
  }

  @Test
  void magicByteFfIsPrintedUnsigned() {
    assertThatThrownBy(() -> WireFormat.schemaId(new byte[] {(byte) 0xff, 0, 0, 0, 1}, "t"))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("0xff")
        .hasMessageNotContaining("0xffffffff")
        .hasMessageNotContaining("-1");
  }

  @Test
  void idIsReadBigEndianFromBytesOneToFour() {
    assertThat(WireFormat.schemaId(new byte[] {0, 0, 0, 1, 0}, "t")).isEqualTo(256);
    assertThat(WireFormat.schemaId(new byte[] {0, 0, 0, 0, 1}, "t")).isEqualTo(1);
    assertThat(WireFormat.schemaId(new byte[] {0, 1, 2, 3, 4, 99, 98}, "t")).isEqualTo(0x01020304);
    assertThat(
            WireFormat.schemaId(new byte[] {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, "t"))
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(WireFormat.schemaId(new byte[] {0, 0, 0, 0, (byte) 0x80}, "t")).isEqualTo(128);
  }

  @Test
  void writeHeaderIsTheInverseOfSchemaId() {
    for (int id : new int[] {0, 1, 255, 256, 65_537, 0x01020304, Integer.MAX_VALUE}) {
      byte[] buf = new byte[] {9, 9, 9, 9, 9, 42};
      WireFormat.writeHeader(buf, id);
      assertThat(buf[0]).isZero();
      assertThat(buf[5]).as("body untouched").isEqualTo((byte) 42);
      assertThat(WireFormat.schemaId(buf, "t")).isEqualTo(id);
    }
    byte[] buf = new byte[5];
    WireFormat.writeHeader(buf, 0x0a0b0c0d);
    assertThat(buf).containsExactly(0, 0x0a, 0x0b, 0x0c, 0x0d);
  }
}
