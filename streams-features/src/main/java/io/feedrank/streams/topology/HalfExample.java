package io.feedrank.streams.topology;

import io.feedrank.avro.serde.EncodeBuffer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What the user side hands the item side through the repartition topic: the event, the item's
 * category as the user side saw it ("" when unknown), and the user's and user-category features as
 * they were before the event. The item side adds the item's features and builds the training
 * example.
 *
 * <p>On the topic: a tag byte, the two feature arrays as raw doubles (a 4-byte count, then 8 bytes
 * each), the category (a 4-byte length, then UTF-8), then the event:
 *
 * <ul>
 *   <li>format 2 (tag 3): the event in the Confluent wire format under the interactions topic's
 *       subject ({@link EventCodec}), so that an instance reads it with the schema it was written
 *       with, resolved against its own: an instance with a newer InteractionEvent reads what an
 *       older one wrote, and the other way round. The tag is odd, as format 1's, because a record
 *       of the legacy format begins with an even byte and may begin with a 2.
 *   <li>format 1 (tag 1): the event in plain Avro binary with the compiled schema and no id, which
 *       only an instance with the same InteractionEvent reads right. Still read; written only with
 *       {@code repartition.format=1}, for the first bounce of a rolling upgrade from a version that
 *       cannot read format 2 (README, streams-features).
 *   <li>legacy: before format 1 the topic carried the half-built {@link TrainingExample} in plain
 *       Avro, whose first byte is an even zigzag varint (a string length); still read.
 * </ul>
 */
record HalfExample(InteractionEvent event, String category, double[] user, double[] cross) {
  /** The format written unless {@code repartition.format} says otherwise. */
  static final int FORMAT_2 = 2;

  /** The format of the versions before {@link #FORMAT_2}, which cannot read it. */
  static final int FORMAT_1 = 1;

  private static final byte TAG_1 = 1;
  private static final byte TAG_2 = 3;

  /**
   * @param events reads the events of format 2, and writes them when {@code writeFormat} is 2
   * @param writeFormat {@link #FORMAT_2} or {@link #FORMAT_1}; every format is read
   */
  static Serde<HalfExample> serde(EventCodec events, int writeFormat) {
    if (writeFormat != FORMAT_1 && writeFormat != FORMAT_2) {
      throw new IllegalArgumentException("no repartition format " + writeFormat);
    }
    byte tag = writeFormat == FORMAT_2 ? TAG_2 : TAG_1;
    SpecificData model = SpecificData.getForClass(InteractionEvent.class);
    SpecificDatumWriter<InteractionEvent> eventWriter =
        new SpecificDatumWriter<>(InteractionEvent.getClassSchema(), model);
    SpecificDatumReader<InteractionEvent> eventReader =
        new SpecificDatumReader<>(
            InteractionEvent.getClassSchema(), InteractionEvent.getClassSchema(), model);
    Serde<TrainingExample> legacy = StateSerdes.plainAvro(TrainingExample.class);
    EncodeBuffer buffer = new EncodeBuffer();
    return Serdes.serdeFrom(
        (topic, h) -> {
          if (h == null) {
            return null;
          }
          byte[] category = h.category().getBytes(StandardCharsets.UTF_8);
          int header = 1 + 4 + 8 * h.user().length + 4 + 8 * h.cross().length + 4 + category.length;
          try {
            byte[] bytes =
                tag == TAG_2
                    ? events.encode(header, h.event())
                    : buffer.encode(header, eventWriter, h.event());
            ByteBuffer out = ByteBuffer.wrap(bytes);
            out.put(tag);
            putDoubles(out, h.user());
            putDoubles(out, h.cross());
            out.putInt(category.length).put(category);
            return bytes;
          } catch (IOException | RuntimeException e) {
            throw new SerializationException("could not write a half example to " + topic, e);
          }
        },
        (topic, bytes) -> {
          if (bytes == null) {
            return null;
          }
          if (bytes.length == 0 || (bytes[0] != TAG_1 && bytes[0] != TAG_2)) {
            return of(legacy.deserializer().deserialize(topic, bytes));
          }
          try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte tagRead = in.get();
            double[] user = doubles(in);
            double[] cross = doubles(in);
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) { // before allocating what it declares
              throw new IllegalArgumentException("bad category length " + length);
            }
            byte[] category = new byte[length];
            in.get(category);
            InteractionEvent event;
            if (tagRead == TAG_2) {
              event = events.decode(topic, bytes, in.position());
            } else {
              BinaryDecoder d =
                  DecoderFactory.get()
                      .binaryDecoder(bytes, in.position(), bytes.length - in.position(), null);
              event = eventReader.read(null, d);
            }
            return new HalfExample(
                event, new String(category, StandardCharsets.UTF_8), user, cross);
          } catch (RegistryUnavailableException e) {
            // not the record's fault: as it is, the deserialization handler fails the thread so
            // that the record is read again, instead of skipping it
            throw e;
          } catch (IOException | RuntimeException e) {
            throw new SerializationException("could not read a half example from " + topic, e);
          }
        });
  }

  /** From the half-built training example the repartition topic carried before this format. */
  static HalfExample of(TrainingExample ex) {
    InteractionEvent e =
        InteractionEvent.newBuilder()
            .setInteractionId(ex.getInteractionId())
            .setUserId(ex.getUserId())
            .setItemId(ex.getItemId())
            .setEventTime(ex.getEventTime())
            .setClick(ex.getClick())
            .setLike(ex.getLike())
            .setShare(ex.getShare())
            .setDwellSeconds(ex.getDwellSeconds())
            .setDevice(ex.getDevice())
            .setRequestId(ex.getRequestId())
            .setPosition(ex.getPosition())
            .build();
    return new HalfExample(
        e, ex.getItemCategory(), unboxed(ex.getUserFeatures()), unboxed(ex.getCrossFeatures()));
  }

  private static void putDoubles(ByteBuffer out, double[] values) {
    out.putInt(values.length);
    for (double v : values) {
      out.putDouble(v);
    }
  }

  private static double[] doubles(ByteBuffer in) {
    int n = in.getInt();
    if (n < 0 || n > in.remaining() / 8) {
      throw new IllegalArgumentException("bad feature count " + n);
    }
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = in.getDouble();
    }
    return values;
  }

  private static double[] unboxed(List<Double> values) {
    double[] a = new double[values.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = values.get(i);
    }
    return a;
  }
}
