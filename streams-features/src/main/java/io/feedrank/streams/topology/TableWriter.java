package io.feedrank.streams.topology;

import java.util.function.BiConsumer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Keeps a global table's store: the latest value per key with its record's timestamp, a tombstone
 * deletes. Kafka Streams runs it on the records of the table's topic both while the app runs and
 * while it restores the store at start, so a record the deserialization handler skips is skipped
 * both times.
 */
final class TableWriter<V> implements Processor<Long, V, Void, Void> {
  private final String storeName;
  private final BiConsumer<Long, V> onValue;
  private TimestampedKeyValueStore<Long, V> store;

  /**
   * @param onValue told of every value put (also while restoring, so it must be idempotent)
   */
  TableWriter(String storeName, BiConsumer<Long, V> onValue) {
    this.storeName = storeName;
    this.onValue = onValue;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(storeName);
  }

  @Override
  public void process(Record<Long, V> record) {
    if (record.key() == null) {
      return;
    }
    if (record.value() == null) {
      store.delete(record.key());
    } else {
      store.put(record.key(), ValueAndTimestamp.make(record.value(), record.timestamp()));
      onValue.accept(record.key(), record.value());
    }
  }
}
