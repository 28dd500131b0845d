package io.feedrank.streams.topology;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The timestamp Kafka Streams processes a record at: its own, unless that is negative or further
 * ahead of the wall clock than {@code maxAheadOfClock}. Never fails and never negative.
 *
 * <p>Kafka Streams' default ({@code FailOnInvalidTimestamp}) threw on a negative timestamp (-1, no
 * timestamp, from a producer of an old message format; a time before 1970), which failed the stream
 * thread; its replacement read the same uncommitted record and failed again, for ever. A negative
 * timestamp is replaced by the partition's time (the latest timestamp its records were processed
 * at), or the wall clock before the partition has one; the record then reaches the validator like
 * any other.
 *
 * <p>Every record an event makes (its training example, the repartition record before it, its dead
 * letter, the changelog records of the state it changes) is stamped with the timestamp it was
 * processed at. A broker refuses a timestamp more than {@code message.timestamp.after.max.ms} ahead
 * of its clock (1 h by default since Kafka 4.0), on the output and internal topics too; with that
 * raised on {@code interactions} alone, one record stamped hours ahead failed the thread at every
 * replay as above. So a record is processed at no later than the clock plus {@code
 * maxAheadOfClock}.
 *
 * <p>Where the timestamp is changed, the record's own is left in the header {@link
 * #ORIGINAL_TIMESTAMP_HEADER} (8 bytes, big-endian) for {@link ValidateProcessor}, which judges the
 * event by it and keeps it in the dead letter; a header of that name the record came with is
 * removed. The instance may be shared by the stream threads: it keeps no state.
 */
public final class BoundedTimestampExtractor implements TimestampExtractor {
  /** The record's own timestamp, where the one it is processed at differs. */
  public static final String ORIGINAL_TIMESTAMP_HEADER = "feedrank.original-timestamp";

  private final LongSupplier clock;
  private final long maxAheadOfClockMillis;

  /**
   * @param clock the wall clock, epoch milliseconds
   * @param maxAheadOfClock how far ahead of {@code clock} a record may be processed; {@code
   *     Long.MAX_VALUE} ms or more = no bound
   */
  public BoundedTimestampExtractor(LongSupplier clock, Duration maxAheadOfClock) {
    if (maxAheadOfClock.isNegative()) {
      throw new IllegalArgumentException(
          "maxAheadOfClock must be >= 0, got " + maxAheadOfClock.toMillis());
    }
    this.clock = clock;
    this.maxAheadOfClockMillis =
        maxAheadOfClock.compareTo(Duration.ofMillis(Long.MAX_VALUE)) >= 0
            ? Long.MAX_VALUE
            : maxAheadOfClock.toMillis();
  }

  /**
   * Negative timestamps replaced, no bound by the clock: Kafka Streams' {@code
   * default.timestamp.extractor}, which reads the app's repartition topic, whose records the user
   * side stamped within the bound already.
   */
  public BoundedTimestampExtractor() {
    this(System::currentTimeMillis, Duration.ofMillis(Long.MAX_VALUE));
  }

  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    long own = record.timestamp();
    long at = own;
    if (own < 0) {
      at = partitionTime >= 0 ? partitionTime : clock.getAsLong();
    }
    if (maxAheadOfClockMillis != Long.MAX_VALUE) {
      long now = clock.getAsLong();
      if (at > now && at - now > maxAheadOfClockMillis) {
        at = now + maxAheadOfClockMillis;
      }
    }
    at = Math.max(0, at);
    mark(record.headers(), own, at);
    return at;
  }

  /**
   * Leaves {@code own} in the headers where it differs from {@code at}. A consumer's records have
   * headers that can be changed; were they read-only, the event would be judged by {@code at},
   * which is better than a thread that fails on the record at every replay.
   */
  private static void mark(Headers headers, long own, long at) {
    try {
      headers.remove(ORIGINAL_TIMESTAMP_HEADER);
      if (own != at) {
        headers.add(
            ORIGINAL_TIMESTAMP_HEADER, ByteBuffer.allocate(Long.BYTES).putLong(own).array());
      }
    } catch (RuntimeException readOnly) {
      // judged by at, as above
    }
  }

  /**
   * The timestamp the record came with: the one {@link #ORIGINAL_TIMESTAMP_HEADER} holds, else
   * {@code processedAt}.
   */
  static long original(Headers headers, long processedAt) {
    Header h = headers.lastHeader(ORIGINAL_TIMESTAMP_HEADER);
    if (h == null || h.value() == null || h.value().length != Long.BYTES) {
      return processedAt;
    }
    return ByteBuffer.wrap(h.value()).getLong();
  }
}
