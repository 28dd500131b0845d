package io.feedrank.drift.io;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Registry-aware Avro serdes built on the task managers (Flink ships the configuration map, not the
 * clients), speaking the Confluent wire format like every other module.
 */
final class AvroValues {
  private AvroValues() {}

  static <T extends SpecificRecord> AvroDeserializer<T> deserializer(
      Map<String, String> registry, Class<T> type) {
    AvroDeserializer<T> d = new AvroDeserializer<>();
    Map<String, Object> c = new HashMap<>(registry);
    c.put(AvroDeserializer.VALUE_TYPE, type.getName());
    d.configure(c, false);
    return d;
  }

  static <T extends SpecificRecord> AvroSerializer<T> serializer(Map<String, String> registry) {
    AvroSerializer<T> s = new AvroSerializer<>();
    s.configure(new HashMap<>(registry), false);
    return s;
  }
}
