package io.feedrank.streams.topology;

import io.feedrank.avro.serde.EncodeBuffer;
import io.feedrank.features.examples.RequestSnapshots;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import java.io.IOException;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Serdes of the app's internal data: state stores and the repartition topic (no registry). */
final class StateSerdes {

  static Serde<UserState> userState() {
    return Serdes.serdeFrom(
        (t, s) -> s == null ? null : s.toBytes(),
        (t, b) -> b == null ? null : UserState.fromBytes(b));
  }

  static Serde<RequestSnapshots> requestSnapshots() {
    return Serdes.serdeFrom(
        (t, s) -> s == null ? null : s.toBytes(),
        (t, b) -> b == null ? null : RequestSnapshots.fromBytes(b));
  }

  static Serde<ItemState> itemState() {
    return Serdes.serdeFrom(
        (t, s) -> s == null ? null : s.toBytes(),
        (t, b) -> b == null ? null : ItemState.fromBytes(b));
  }

  /**
   * Plain Avro binary of a generated class, for internal topics only: writer and reader are this
   * same application, so no registry round trip or schema id is needed.
   */
  static <T extends SpecificRecord> Serde<T> plainAvro(Class<T> type) {
    SpecificData model = SpecificData.getForClass(type);
    org.apache.avro.Schema schema = model.getSchema(type);
    SpecificDatumWriter<T> writer = new SpecificDatumWriter<>(schema, model);
    SpecificDatumReader<T> reader = new SpecificDatumReader<>(schema, schema, model);
    EncodeBuffer buffer = new EncodeBuffer();
    return Serdes.serdeFrom(
        (topic, value) -> {
          if (value == null) {
            return null;
          }
          try {
            return buffer.encode(0, writer, value);
          } catch (IOException e) {
            throw new SerializationException(
                "could not write " + type.getSimpleName() + " to " + topic, e);
          }
        },
        (topic, bytes) -> {
          if (bytes == null) {
            return null;
          }
          try {
            return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
          } catch (IOException | RuntimeException e) {
            throw new SerializationException(
                "could not read " + type.getSimpleName() + " from " + topic, e);
          }
        });
  }

  private StateSerdes() {}
}
