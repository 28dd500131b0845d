package io.feedrank.trainer;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * An Avro record as plain values Jackson writes readably: a map of its fields by their Avro names,
 * in schema order, and within it strings for strings and enum symbols, ISO-8601 instants for {@code
 * timestamp-millis}, lists, maps, nested records and numbers as they are. Unlike Avro's own JSON
 * encoding, no union wrappers ({@code {"double": 0.3}}), and times a reader can read.
 */
final class AvroJson {
  private AvroJson() {}

  static Map<String, Object> toMap(IndexedRecord record) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Schema.Field f : record.getSchema().getFields()) {
      out.put(f.name(), value(record.get(f.pos())));
    }
    return out;
  }

  private static Object value(Object v) {
    if (v == null || v instanceof Number || v instanceof Boolean) {
      return v;
    }
    if (v instanceof IndexedRecord r) {
      return toMap(r);
    }
    if (v instanceof Instant || v instanceof CharSequence || v instanceof Enum<?>) {
      return v.toString();
    }
    if (v instanceof ByteBuffer b) {
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      list.forEach(e -> out.add(value(e)));
      return out;
    }
    if (v instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, e) -> out.put(k.toString(), value(e)));
      return out;
    }
    // a generic enum symbol or fixed (after List: Avro's arrays are GenericContainers too)
    return v.toString();
  }
}
