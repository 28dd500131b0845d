package io.feedrank.drift.io;

import io.feedrank.avro.serde.AvroSerializer;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a job record to a topic as its Avro contract: {@code convert} builds the Avro record,
 * {@code key} the string key; the value goes out in the Confluent wire format.
 *
 * <p>The Kafka timestamp is the job record's event time (a window's end - 1, a decision timer's
 * time, the example that tipped a {@code DATA_VOLUME} command), but no later than the task
 * manager's clock plus {@link #MAX_AHEAD_OF_CLOCK_MILLIS}. A broker refuses a record stamped more
 * than {@code message.timestamp.after.max.ms} ahead of its clock (1 h by default since Kafka 4.0):
 * with {@code max.ahead.of.clock.ms} raised for a stream that runs ahead, windows closed hours
 * ahead of the clock, the sink failed the job at its flush, and the job failed the same way after
 * every restore. The record's own window and issue times are in its value, and no reader of these
 * topics goes by their Kafka timestamps.
 */
public final class AvroRecords<T, A extends SpecificRecord>
    implements KafkaRecordSerializationSchema<T> {

  /**
   * How far ahead of the clock a record is stamped at most: well below the brokers' default {@code
   * message.timestamp.after.max.ms} (1 h), as streams-features' {@code
   * output.max.ahead.of.clock.ms} default; above the few seconds a clock may be behind another task
   * manager's.
   */
  static final long MAX_AHEAD_OF_CLOCK_MILLIS = 60_000;

  /** A serializable function. */
  public interface Fn<I, O> extends Function<I, O>, Serializable {}

  private final String topic;
  private final HashMap<String, String> registry;
  private final Fn<T, A> convert;
  private final Fn<T, String> key;
  private transient AvroSerializer<A> values;

  public AvroRecords(
      String topic, Map<String, String> registry, Fn<T, A> convert, Fn<T, String> key) {
    this.topic = topic;
    this.registry = new HashMap<>(registry);
    this.convert = convert;
    this.key = key;
  }

  @Override
  public void open(SerializationSchema.InitializationContext ctx, KafkaSinkContext sink) {
    values = AvroValues.serializer(registry);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext ctx, Long timestamp) {
    return new ProducerRecord<>(
        topic,
        null,
        stamp(timestamp, System.currentTimeMillis()),
        key.apply(element).getBytes(StandardCharsets.UTF_8),
        values.serialize(topic, convert.apply(element)));
  }

  /**
   * {@code timestamp}, or {@code nowMillis + MAX_AHEAD_OF_CLOCK_MILLIS} where it is later; null (a
   * record without one: the producer stamps it) stays null.
   */
  static Long stamp(Long timestamp, long nowMillis) {
    if (timestamp == null || timestamp <= nowMillis + MAX_AHEAD_OF_CLOCK_MILLIS) {
      return timestamp;
    }
    return nowMillis + MAX_AHEAD_OF_CLOCK_MILLIS;
  }
}
