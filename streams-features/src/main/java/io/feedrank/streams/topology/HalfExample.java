package io.feedrank.streams.topology;

import io.feedrank.avro.serde.EncodeBuffer;
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
 * <p>On the topic: a format byte (1), the two feature arrays as raw doubles, the category, then the
 * event in plain Avro binary. Until this format the topic carried the half-built {@link
 * TrainingExample} in plain Avro, whose first byte is an even zigzag varint (a string length);
 * records in that format, left in the topic by an older version of the app, are still read.
 */
record HalfExample(InteractionEvent event, String category, double[] user, double[] cross) {
  private static final byte FORMAT = 1;

  static Serde<HalfExample> serde() {
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
            byte[] bytes = buffer.encode(header, eventWriter, h.event());
            ByteBuffer out = ByteBuffer.wrap(bytes);
            out.put(FORMAT);
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
          if (bytes.length == 0 || bytes[0] != FORMAT) {
            return of(legacy.deserializer().deserialize(topic, bytes));
          }
          try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            in.get();
            double[] user = doubles(in);
            double[] cross = doubles(in);
            byte[] category = new byte[in.getInt()];
            in.get(category);
            BinaryDecoder d =
                DecoderFactory.get()
                    .binaryDecoder(bytes, in.position(), bytes.length - in.position(), null);
            return new HalfExample(
                eventReader.read(null, d),
                new String(category, StandardCharsets.UTF_8),
                user,
                cross);
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
