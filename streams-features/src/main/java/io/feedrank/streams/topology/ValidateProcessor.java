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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
 *
 * <p>A record keyed right but on another partition than its key's ({@link
 * InteractionsPartitioning}) is dead-lettered too: its user's state is in another task.
 *
 * <p>A record is judged by the timestamp it came with, also where {@link BoundedTimestampExtractor}
 * has it processed at another (it had none, or one too far ahead of the clock); its dead letter
 * keeps that one as {@code source_timestamp} (null for none), and its outputs carry the one it was
 * processed at.
 *
 * <p>A dead letter carries the key twice (as its record's key and in {@code raw_key}) besides the
 * raw value, so one made of an input record near the size limit would not fit the dead-letter
 * topic: the producer refused it, and the stream thread failed on the same record at every replay.
 * Past {@code maxDeadLetterBytes} the raw bytes are cut to fit, the record's headers are left out,
 * and the message says so and where the whole record is. (A valid event's headers go no further:
 * the user and item sides forward new records.)
 */
final class ValidateProcessor implements FixedKeyProcessor<byte[], byte[], Checked> {
  static final String STREAM_TIME_KEY = "stream-time";

  /**
   * What a dead letter takes besides its raw key and value: the record batch's framing, the source
   * topic, the application id, the message (at most {@link #MAX_MESSAGE_CHARS}) and the fixed
   * fields.
   */
  static final int DEAD_LETTER_OVERHEAD_BYTES = 8 * 1024;

  static final int MAX_MESSAGE_CHARS = 1_000;

  private final AvroDeserializer<InteractionEvent> deserializer;
  private final EventValidator validator;
  private final InteractionsPartitioning partitioning;
  private final FeatureMetrics metrics;
  private final String application;
  private final int rawBudget;
  private FixedKeyProcessorContext<byte[], Checked> context;
  private KeyValueStore<String, Long> streamTimeStore;
  private long streamTime = Long.MIN_VALUE;

  ValidateProcessor(
      AvroDeserializer<InteractionEvent> deserializer,
      EventValidator validator,
      InteractionsPartitioning partitioning,
      FeatureMetrics metrics,
      String application,
      int maxDeadLetterBytes) {
    this.deserializer = deserializer;
    this.validator = validator;
    this.partitioning = partitioning;
    this.metrics = metrics;
    this.application = application;
    this.rawBudget = maxDeadLetterBytes - DEAD_LETTER_OVERHEAD_BYTES;
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
    // the timestamp the record came with, where it is processed at another
    // (BoundedTimestampExtractor): the event is judged by it and its dead letter keeps it
    long own = BoundedTimestampExtractor.original(record.headers(), record.timestamp());
    if (record.headers().lastHeader(BoundedTimestampExtractor.ORIGINAL_TIMESTAMP_HEADER) != null) {
      metrics.restamped(own < 0);
      Headers headers = new RecordHeaders(record.headers().toArray());
      headers.remove(BoundedTimestampExtractor.ORIGINAL_TIMESTAMP_HEADER);
      record = record.withHeaders(headers);
    }
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("?");
    InteractionEvent event;
    try {
      event = deserializer.deserialize(topic, record.value());
    } catch (RegistryUnavailableException e) {
      metrics.registryUnavailable();
      throw e;
    } catch (RuntimeException e) {
      dead(record, own, ErrorCode.DESERIALIZATION, e.getMessage());
      return;
    }
    if (event == null) {
      dead(record, own, ErrorCode.DESERIALIZATION, "record has no value");
      return;
    }
    byte[] key = record.key();
    if (key == null
        || key.length != Long.BYTES
        || ByteBuffer.wrap(key).getLong() != event.getUserId()) {
      dead(
          record,
          own,
          ErrorCode.KEY_MISMATCH,
          "record key must be user_id "
              + event.getUserId()
              + " as an 8-byte long, got "
              + (key == null ? "no key" : key.length + " bytes"));
      return;
    }
    Optional<Integer> partition = context.recordMetadata().map(RecordMetadata::partition);
    Optional<String> misplaced = partition.flatMap(p -> partitioning.misplaced(key, p));
    if (misplaced.isPresent()) {
      dead(record, own, ErrorCode.WRONG_PARTITION, misplaced.get());
      return;
    }
    Optional<EventValidator.Violation> violation = validator.check(event, streamTime, own);
    if (violation.isPresent()) {
      dead(record, own, violation.get().code(), violation.get().message());
      return;
    }
    long t = event.getEventTime().toEpochMilli();
    if (t > streamTime) {
      streamTime = t;
      streamTimeStore.put(STREAM_TIME_KEY, t);
    }
    context.forward(record.withValue(Checked.ok(event)));
  }

  /**
   * @param ownTimestamp the timestamp the record came with (negative: none), which the dead letter
   *     keeps as {@code source_timestamp} (null for none); its own record is stamped with the one
   *     the input was processed at
   */
  private void dead(
      FixedKeyRecord<byte[], byte[]> record, long ownTimestamp, ErrorCode code, String message) {
    metrics.deadLettered(code);
    Optional<RecordMetadata> meta = context.recordMetadata();
    String topic = meta.map(RecordMetadata::topic).orElse("");
    int partition = meta.map(RecordMetadata::partition).orElse(-1);
    long offset = meta.map(RecordMetadata::offset).orElse(-1L);
    String text = message == null ? code.name() : message;
    if (text.length() > MAX_MESSAGE_CHARS) {
      text = text.substring(0, MAX_MESSAGE_CHARS) + "…";
    }
    byte[] key = record.key();
    byte[] value = record.value();
    int keyLength = key == null ? 0 : key.length;
    int valueLength = value == null ? 0 : value.length;
    long headerBytes = 0;
    for (Header h : record.headers()) {
      headerBytes += h.key().length() + (h.value() == null ? 0 : h.value().length);
    }
    if (2L * keyLength + valueLength + headerBytes > rawBudget) {
      // the headers left out; the key at most a quarter of the budget (it is there twice), the
      // value the rest
      int keptKey = Math.min(keyLength, rawBudget / 4);
      int keptValue = Math.min(valueLength, rawBudget - 2 * keptKey);
      List<String> what = new ArrayList<>();
      if (keptKey < keyLength || keptValue < valueLength) {
        what.add(
            String.format(
                "raw key and value cut to %d and %d of their %d and %d bytes",
                keptKey, keptValue, keyLength, valueLength));
      }
      if (headerBytes > 0) {
        what.add("its headers (" + headerBytes + " bytes) left out");
        record = record.withHeaders(new RecordHeaders());
      }
      text +=
          String.format(
              " (%s to fit the dead-letter topic; the whole record is at %s-%d@%d)",
              String.join(", ", what), topic, partition, offset);
      key = key == null ? null : Arrays.copyOf(key, keptKey);
      value = value == null ? null : Arrays.copyOf(value, keptValue);
    }
    DeadLetter d =
        DeadLetter.newBuilder()
            .setSourceTopic(topic)
            .setSourcePartition(partition)
            .setSourceOffset(offset)
            .setSourceTimestamp(ownTimestamp < 0 ? null : Instant.ofEpochMilli(ownTimestamp))
            .setErrorCode(code.name())
            .setErrorMessage(text)
            .setRawKey(key == null ? null : ByteBuffer.wrap(key))
            .setRawValue(value == null ? null : ByteBuffer.wrap(value))
            .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
            .setApplication(application)
            .build();
    context.forward(record.withValue(Checked.dead(d, key)));
  }
}
