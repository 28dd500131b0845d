package io.feedrank.streams.topology;

import java.util.function.UnaryOperator;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * A record of the items or users table: its value, and the bytes its topic holds it as (the
 * Confluent wire format: the producer's schema id, then the value in that schema). A table's store
 * keeps those bytes as they are. Serializing the value again would need an id for the app's own
 * compiled schema, registered under the producers' subject: refused with a registry credential that
 * may only read (which failed the global thread, at every start too, as the tables are restored
 * through it), and otherwise a version of the producers' subject written by a reader. Readers
 * resolve the producer's schema against the compiled one, as they read the topic.
 *
 * @param wire the record's value as its topic holds it
 * @param value {@code wire} read into the compiled class
 */
record TableRecord<V>(byte[] wire, V value) {

  /**
   * The serde of a table's records: {@code values} reads the bytes; {@code asRead} is applied to
   * what they read as (for a store, what its readers are to see of a value, as the stored bytes are
   * the topic's), and must be cheap: a store is read per event.
   */
  static <V> Serde<TableRecord<V>> serde(Deserializer<V> values, UnaryOperator<V> asRead) {
    return Serdes.serdeFrom(
        (topic, record) -> record == null ? null : record.wire(),
        (topic, bytes) -> {
          V value = values.deserialize(topic, bytes);
          return value == null ? null : new TableRecord<>(bytes, asRead.apply(value));
        });
  }

  /** The value a table's store holds, or null when it holds none. */
  static <V> V valueOf(ValueAndTimestamp<TableRecord<V>> stored) {
    return stored == null ? null : stored.value().value();
  }
}
