package io.feedrank.streams.topology;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.validation.ErrorCode;
import io.feedrank.streams.validation.EventValidator;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Deserializes and validates raw interaction records. A record that fails becomes a {@link
 * DeadLetter} with its source coordinates, an {@link ErrorCode}, a message and the raw bytes, so
 * nothing is dropped and the app never stops on bad input. A record whose writer schema the
 * registry cannot give (a {@link RegistryUnavailableException}) is not bad input: it fails the
 * stream thread, which is replaced and reads it again from the last commit, until the registry
 * answers — a registry outage must not send a stream of valid events to the dead letters. The
 * partition's stream time (latest accepted event time) lives in a state store, so a replay after a
 * crash decides the same way.
 */
final class ValidateProcessor implements FixedKeyProcessor<byte[], byte[], Checked> {
  static final String STREAM_TIME_KEY = "stream-time";

  private final AvroDeserializer<InteractionEvent> deserializer;
  private final EventValidator validator;
  private final FeatureMetrics metrics;
  private final String application;
  private FixedKeyProcessorContext<byte[], Checked> context;
  private KeyValueStore<String, Long> streamTimeStore;
  private long streamTime = Long.MIN_VALUE;

  ValidateProcessor(
      AvroDeserializer<InteractionEvent> deserializer,
      EventValidator validator,
      FeatureMetrics metrics,
      String application) {
    this.deserializer = deserializer;
    this.validator = validator;
    this.metrics = metrics;
    this.application = application;
  }

  @Override
  public void init(FixedKeyProcessorContext<byte[], Checked> context) {
    this.context = context;
    this.streamTimeStore = context.getStateStore(FeatureTopology.STREAM_TIME_STORE);
    Long stored = streamTimeStore.get(STREAM_TIME_KEY);
    streamTime = stored == null ? Long.MIN_VALUE : stored;
  }

  @Override
  public void process(FixedKeyRecord<byte[], byte[]> record) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("?");
    InteractionEvent event;
    try {
      event = deserializer.deserialize(topic, record.value());
    } catch (RegistryUnavailableException e) {
      metrics.registryUnavailable();
      throw e;
    } catch (RuntimeException e) {
      dead(record, ErrorCode.DESERIALIZATION, e.getMessage());
      return;
    }
    if (event == null) {
      dead(record, ErrorCode.DESERIALIZATION, "record has no value");
      return;
    }
    byte[] key = record.key();
    if (key == null
        || key.length != Long.BYTES
        || ByteBuffer.wrap(key).getLong() != event.getUserId()) {
      dead(
          record,
          ErrorCode.KEY_MISMATCH,
          "record key must be user_id "
              + event.getUserId()
              + " as an 8-byte long, got "
              + (key == null ? "no key" : key.length + " bytes"));
      return;
    }
    Optional<EventValidator.Violation> violation =
        validator.check(event, streamTime, record.timestamp());
    if (violation.isPresent()) {
      dead(record, violation.get().code(), violation.get().message());
      return;
    }
    long t = event.getEventTime().toEpochMilli();
    if (t > streamTime) {
      streamTime = t;
      streamTimeStore.put(STREAM_TIME_KEY, t);
    }
    context.forward(record.withValue(Checked.ok(event)));
  }

  private void dead(FixedKeyRecord<byte[], byte[]> record, ErrorCode code, String message) {
    metrics.deadLettered(code);
    Optional<RecordMetadata> meta = context.recordMetadata();
    DeadLetter d =
        DeadLetter.newBuilder()
            .setSourceTopic(meta.map(RecordMetadata::topic).orElse(""))
            .setSourcePartition(meta.map(RecordMetadata::partition).orElse(-1))
            .setSourceOffset(meta.map(RecordMetadata::offset).orElse(-1L))
            .setSourceTimestamp(Instant.ofEpochMilli(record.timestamp()))
            .setErrorCode(code.name())
            .setErrorMessage(message == null ? code.name() : message)
            .setRawKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
            .setRawValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
            .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
            .setApplication(application)
            .build();
    context.forward(record.withValue(Checked.dead(d)));
  }
}
