package io.feedrank.drift.io;

import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;

/**
 * The warnings of a source about records it skips, limited: the first {@value #FIRST} each in full,
 * then at most one line per minute with how many were skipped since and the latest of them. Every
 * skipped record is counted in the source's counter all the same ({@code
 * drift.records.undecodable}, or {@value EventTimeBound#METRIC}); a topic full of bad records (a
 * producer with the wrong serializer) wrote one line per record, thousands a second. One per source
 * instance and kind of skip, used from its reader thread only.
 */
final class SkipLog {
  /** Records logged one by one before the rest are summed up. */
  static final int FIRST = 10;

  /** At most one summary line per this many nanoseconds. */
  static final long EVERY_NANOS = 60_000_000_000L;

  private final Logger log;
  private final String what;
  private final String why;
  private final String metric;
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
    this(log, what, "undecodable", "drift.records.undecodable", nanoClock);
  }

  /**
   * @param why what is wrong with the records, for the message: "undecodable"
   * @param metric the counter the skipped records are counted in, for the message
   */
  SkipLog(Logger log, String what, String why, String metric, LongSupplier nanoClock) {
    this.log = log;
    this.what = what;
    this.why = why;
    this.metric = metric;
    this.nanoClock = nanoClock;
  }

  /** One more skipped record, with the reason it could not be read. */
  void skipped(ConsumerRecord<?, ?> record, String reason) {
    total++;
    long now = nanoClock.getAsLong();
    if (total <= FIRST) {
      loggedAt = now;
      log.warn(
          "drift: skipping {} {} {}-{}@{}: {}{}",
          why,
          what,
          record.topic(),
          record.partition(),
          record.offset(),
          reason,
          total == FIRST
              ? " (further ones are counted in " + metric + " and logged once a minute)"
              : "");
      return;
    }
    unlogged++;
    if (now - loggedAt >= EVERY_NANOS) {
      log.warn(
          "drift: skipped {} more {} {}s since the last warning ({} in all), the latest"
              + " {}-{}@{}: {}",
          unlogged,
          why,
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
