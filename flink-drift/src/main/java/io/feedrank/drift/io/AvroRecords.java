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
 */
public final class AvroRecords<T, A extends SpecificRecord>
    implements KafkaRecordSerializationSchema<T> {

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
        timestamp,
        key.apply(element).getBytes(StandardCharsets.UTF_8),
        values.serialize(topic, convert.apply(element)));
  }
}
