package io.feedrank.drift.io;

import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;

/**
 * The warnings of a source about records it skips, limited: the first {@value #FIRST} each in full,
 * then at most one line per minute with how many were skipped since and the latest of them. Every
 * skipped record is counted in the source's {@code drift.records.undecodable} all the same; a topic
 * full of bad records (a producer with the wrong serializer) wrote one line per record, thousands a
 * second. One per source instance, used from its reader thread only.
 */
final class SkipLog {
  /** Records logged one by one before the rest are summed up. */
  static final int FIRST = 10;

  /** At most one summary line per this many nanoseconds. */
  static final long EVERY_NANOS = 60_000_000_000L;

  private final Logger log;
  private final String what;
  private final LongSupplier nanoClock;
  private long total;
  private long unlogged;
  private long loggedAt;

  /**
   * @param what the records, for the message: "example", "interaction", "registry record"
   */
  SkipLog(Logger log, String what) {
    this(log, what, System::nanoTime);
  }

  SkipLog(Logger log, String what, LongSupplier nanoClock) {
    this.log = log;
    this.what = what;
    this.nanoClock = nanoClock;
  }

  /** One more skipped record, with the reason it could not be read. */
  void skipped(ConsumerRecord<?, ?> record, String reason) {
    total++;
    long now = nanoClock.getAsLong();
    if (total <= FIRST) {
      loggedAt = now;
      log.warn(
          "drift: skipping undecodable {} {}-{}@{}: {}{}",
          what,
          record.topic(),
          record.partition(),
          record.offset(),
          reason,
          total == FIRST
              ? " (further ones are counted in drift.records.undecodable and logged once a minute)"
              : "");
      return;
    }
    unlogged++;
    if (now - loggedAt >= EVERY_NANOS) {
      log.warn(
          "drift: skipped {} more undecodable {}s since the last warning ({} in all), the latest"
              + " {}-{}@{}: {}",
          unlogged,
          what,
          total,
          record.topic(),
          record.partition(),
          record.offset(),
          reason);
      unlogged = 0;
      loggedAt = now;
    }
  }
}
