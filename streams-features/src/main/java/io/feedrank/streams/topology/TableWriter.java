package io.feedrank.streams.topology;

import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Keeps a global table's store: the latest record per key, as its topic holds it ({@link
 * TableRecord}), with its timestamp; a tombstone deletes. Kafka Streams runs it on the records of
 * the table's topic both while the app runs and while it restores the store at start, so a record
 * the deserialization handler skips is skipped both times, and a value is admitted the same way
 * both times.
 */
final class TableWriter<V> implements Processor<Long, TableRecord<V>, Void, Void> {
  private final String storeName;
  private final BiFunction<Long, V, V> admit;
  private final BiConsumer<Long, V> onValue;
  private TimestampedKeyValueStore<Long, TableRecord<V>> store;

  /**
   * @param admit what is kept of a record's value, from its key and value (the value itself, or a
   *     copy with what must not be kept left out), before {@code onValue} sees it; the store keeps
   *     the record's bytes, so its serde must leave out of what it reads the same
   * @param onValue told of every value put (also while restoring, so it must be idempotent)
   */
  TableWriter(String storeName, BiFunction<Long, V, V> admit, BiConsumer<Long, V> onValue) {
    this.storeName = storeName;
    this.admit = admit;
    this.onValue = onValue;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(storeName);
  }

  @Override
  public void process(Record<Long, TableRecord<V>> record) {
    if (record.key() == null) {
      return;
    }
    if (record.value() == null) {
      store.delete(record.key());
    } else {
      V value = admit.apply(record.key(), record.value().value());
      store.put(record.key(), ValueAndTimestamp.make(record.value(), record.timestamp()));
      onValue.accept(record.key(), value);
    }
  }
}
