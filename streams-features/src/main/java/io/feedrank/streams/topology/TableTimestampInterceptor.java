package io.feedrank.streams.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The global consumer's interceptor (the {@code users} and {@code items} tables): a record without
 * a timestamp (a negative one: -1 from a producer of an old message format or a client that sets
 * none) is given the wall clock's time, every other record is passed on as it is.
 *
 * <p>Kafka Streams 4.3.1 reads a global table's records at their own timestamps, with no timestamp
 * extractor, neither {@code default.timestamp.extractor} nor one given in {@code Consumed}, and
 * refuses a negative one ({@code GlobalStateUpdateTask.update} makes a {@code Record}, whose
 * constructor throws "Malformed Record"): the global thread failed, and with it the whole app. When
 * it restores the table at a start ({@code GlobalStateManagerImpl.reprocessState}) the same refusal
 * goes to the deserialization handler, which skipped the record: the app came back up without the
 * profile or metadata. Restamped here, the record is applied to its table, while running and
 * restoring alike; the table keeps the time with the value, and nothing reads it.
 *
 * <p>Logged, with the total so far, at the 1st, 2nd, 4th, 8th, … record restamped. Kafka makes one
 * instance per consumer, and the global thread alone calls it.
 */
public final class TableTimestampInterceptor implements ConsumerInterceptor<byte[], byte[]> {
  private static final Logger log = LoggerFactory.getLogger(TableTimestampInterceptor.class);

  private final LongSupplier clock;
  private long restamped;

  /** Kafka's: it makes the instance from {@code global.consumer.interceptor.classes}. */
  public TableTimestampInterceptor() {
    this(System::currentTimeMillis);
  }

  /**
   * @param clock the wall clock, epoch milliseconds
   */
  TableTimestampInterceptor(LongSupplier clock) {
    this.clock = clock;
  }

  @Override
  public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
    if (!anyUnstamped(records)) {
      return records;
    }
    long now = clock.getAsLong();
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> out = new LinkedHashMap<>();
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> in = records.records(tp);
      List<ConsumerRecord<byte[], byte[]>> kept = new ArrayList<>(in.size());
      for (ConsumerRecord<byte[], byte[]> r : in) {
        kept.add(r.timestamp() >= 0 ? r : restamp(r, now));
      }
      out.put(tp, kept);
    }
    return new ConsumerRecords<>(out, records.nextOffsets());
  }

  private static boolean anyUnstamped(ConsumerRecords<byte[], byte[]> records) {
    for (ConsumerRecord<byte[], byte[]> r : records) {
      if (r.timestamp() < 0) {
        return true;
      }
    }
    return false;
  }

  private ConsumerRecord<byte[], byte[]> restamp(ConsumerRecord<byte[], byte[]> r, long now) {
    restamped++;
    if (Long.bitCount(restamped) == 1) {
      log.warn(
          "features: {}-{}@{} has no timestamp ({}); applied to its table at the clock's {}"
              + " ({} such records so far)",
          r.topic(),
          r.partition(),
          r.offset(),
          r.timestamp(),
          now,
          restamped);
    }
    return new ConsumerRecord<>(
        r.topic(),
        r.partition(),
        r.offset(),
        now,
        r.timestampType(),
        r.serializedKeySize(),
        r.serializedValueSize(),
        r.key(),
        r.value(),
        r.headers(),
        r.leaderEpoch(),
        r.deliveryCount());
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
