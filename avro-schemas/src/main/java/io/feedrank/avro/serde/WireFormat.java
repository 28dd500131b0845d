package io.feedrank.avro.serde;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The Confluent wire format: magic byte {@code 0}, the schema id as a 4-byte big-endian int, then
 * the Avro binary encoding of the record.
 */
public final class WireFormat {
  public static final byte MAGIC_BYTE = 0;
  public static final int HEADER_LENGTH = 5;

  /**
   * Reads the schema id from a payload, checking the header.
   *
   * @throws SerializationException when the payload is too short or the magic byte is not 0
   */
  public static int schemaId(byte[] payload, String topic) {
    if (payload.length < HEADER_LENGTH) {
      throw new SerializationException(
          "record on topic '"
              + topic
              + "' is "
              + payload.length
              + " bytes, shorter than the "
              + HEADER_LENGTH
              + "-byte Confluent wire-format header");
    }
    if (payload[0] != MAGIC_BYTE) {
      throw new SerializationException(
          String.format(
              "unknown magic byte 0x%02x in record on topic '%s': expected 0x00 (Confluent wire format)",
              payload[0] & 0xff, topic));
    }
    return ByteBuffer.wrap(payload, 1, 4).getInt();
  }

  /** Writes the 5-byte header into the first bytes of {@code out}. */
  static void writeHeader(byte[] out, int schemaId) {
    out[0] = MAGIC_BYTE;
    out[1] = (byte) (schemaId >>> 24);
    out[2] = (byte) (schemaId >>> 16);
    out[3] = (byte) (schemaId >>> 8);
    out[4] = (byte) schemaId;
  }

  private WireFormat() {}
}
