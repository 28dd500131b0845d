package io.feedrank.streams.topology;

import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.avro.serde.EncodeBuffer;
import io.feedrank.avro.serde.WireFormat;
import io.feedrank.events.InteractionEvent;
import java.io.IOException;
import java.util.Arrays;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The event as format 2 of the repartition topic carries it ({@link HalfExample}): in the Confluent
 * wire format under the interactions topic's subject ({@code <interactions>-value}), so that the
 * item side resolves the schema it was written with against its own compiled one, whichever version
 * of the app wrote it (DESIGN §2: producers, this app included, evolve InteractionEvent BACKWARD).
 *
 * <p>The schema id is resolved once per instance, by an {@link AvroSerializer} at the first write
 * (it registers the compiled schema or, with {@code auto.register.schemas=false}, looks it up, and
 * fails naming the subject), and kept: every later record costs five header bytes more than format
 * 1, and no lookup. Reading is {@link AvroDeserializer}'s, with its meaning of errors: a record at
 * fault is a {@code SerializationException}, a registry that could not give the writer schema a
 * {@link io.feedrank.avro.serde.RegistryUnavailableException}. Thread-safe.
 */
final class EventCodec {
  private final String interactionsTopic;
  private final AvroSerializer<InteractionEvent> serializer;
  private final AvroDeserializer<InteractionEvent> deserializer;
  private final SpecificDatumWriter<InteractionEvent> writer =
      new SpecificDatumWriter<>(
          InteractionEvent.getClassSchema(), SpecificData.getForClass(InteractionEvent.class));
  private final EncodeBuffer buffer = new EncodeBuffer();

  /** Magic byte and schema id of the compiled schema, once the serializer has given them. */
  private volatile byte[] header;

  /**
   * @param interactionsTopic the input topic, whose value subject the event's schema is under
   * @param autoRegister whether the compiled schema is registered when the subject lacks it
   */
  EventCodec(SchemaRegistryClient registry, String interactionsTopic, boolean autoRegister) {
    this.interactionsTopic = interactionsTopic;
    this.serializer = new AvroSerializer<>(registry, autoRegister);
    this.deserializer = new AvroDeserializer<>(registry, InteractionEvent.class);
  }

  /** {@code prefixBytes} zero bytes for the caller to fill, then the event in the wire format. */
  byte[] encode(int prefixBytes, InteractionEvent event) throws IOException {
    byte[] h = header;
    if (h == null) {
      // the wire format of this (compiled) schema begins with these bytes for every event
      h = Arrays.copyOf(serializer.serialize(interactionsTopic, event), WireFormat.HEADER_LENGTH);
      header = h;
    }
    byte[] bytes = buffer.encode(prefixBytes + h.length, writer, event);
    System.arraycopy(h, 0, bytes, prefixBytes, h.length);
    return bytes;
  }

  /**
   * The event that {@code bytes} hold from {@code offset} to their end, as {@link #encode} of any
   * version of the app wrote it, in the compiled schema.
   */
  InteractionEvent decode(String topic, byte[] bytes, int offset) {
    return deserializer.deserialize(topic, Arrays.copyOfRange(bytes, offset, bytes.length));
  }
}
