package io.feedrank.drift.io;

import java.io.Serializable;
import java.time.Instant;
import java.util.function.LongSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;

/**
 * The event times a source of the drift job takes: none before 1970, and none more than {@code
 * maxAheadMillis} ahead of the wall clock of the task manager reading the record ({@code
 * max.ahead.of.clock.ms}). Each Kafka partition's watermark is the latest event time it has read
 * less the out-of-orderness, so one record stamped a day ahead (a client with a clock a day fast,
 * an event the streams app dead-lettered as in the future, a year-3000 sentinel) held its
 * partition's watermark a day ahead: where that partition set the job's watermark (a topic of one
 * partition, or the others idle), every later value, response and impression was late and dropped
 * from its window, and online CTR and PERFORMANCE_DROP stood still, for a day or until a restart. A
 * record refused here is not emitted, so it moves no watermark; it is counted ({@value #METRIC})
 * and logged ({@link SkipLog}: the first ones, then a count once a minute).
 *
 * <p>With {@code maxAheadMillis} at most the out-of-orderness, no record taken can move a watermark
 * past the clock, so none makes the values of the present late. {@link #NONE} bounds nothing by the
 * clock (simulated time that runs ahead of it); before 1970 is refused all the same.
 *
 * <p>One per source; {@link #open} on the task manager; used from the reader thread only.
 */
public final class EventTimeBound implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The counter of records refused for their event time, per source. */
  public static final String METRIC = "drift.records.implausible.time";

  /** No bound by the wall clock. */
  public static final long NONE = Long.MAX_VALUE;

  private final long maxAheadMillis;
  private transient LongSupplier clockMillis;
  private transient Counter refused;
  private transient SkipLog skips;

  /**
   * @param maxAheadMillis how far ahead of the wall clock an event time may be, 0 or more
   */
  public EventTimeBound(long maxAheadMillis) {
    if (maxAheadMillis < 0) {
      throw new IllegalArgumentException(
          "max.ahead.of.clock.ms must be at least 0, got " + maxAheadMillis);
    }
    this.maxAheadMillis = maxAheadMillis;
  }

  public long maxAheadMillis() {
    return maxAheadMillis;
  }

  /**
   * Registers the counter in {@code metrics} and the warnings on {@code log}.
   *
   * @param what the records, for the message: "example", "interaction"
   */
  void open(MetricGroup metrics, Logger log, String what) {
    open(metrics, log, what, System::currentTimeMillis, System::nanoTime);
  }

  void open(
      MetricGroup metrics,
      Logger log,
      String what,
      LongSupplier clockMillis,
      LongSupplier nanoClock) {
    this.clockMillis = clockMillis;
    refused = metrics.counter(METRIC);
    skips = new SkipLog(log, what, "implausibly timed", METRIC, nanoClock);
  }

  /**
   * Whether the source takes {@code record}, whose event time is {@code eventMillis}; a record it
   * does not take is counted and logged.
   */
  boolean admits(ConsumerRecord<?, ?> record, long eventMillis) {
    String why = violation(eventMillis, clockMillis.getAsLong(), maxAheadMillis);
    if (why == null) {
      return true;
    }
    refused.inc();
    skips.skipped(record, why);
    return false;
  }

  /**
   * Why an event at {@code eventMillis} is refused when the clock reads {@code nowMillis}, or null
   * if it is taken: before 1970, or more than {@code maxAheadMillis} after {@code nowMillis}
   * ({@code nowMillis + maxAheadMillis} itself is taken).
   */
  static String violation(long eventMillis, long nowMillis, long maxAheadMillis) {
    if (eventMillis < 0) {
      return "event time " + Instant.ofEpochMilli(eventMillis) + " is before 1970";
    }
    // both at least 0 here, so the difference cannot overflow (now + bound could: NONE)
    if (eventMillis - maxAheadMillis > nowMillis) {
      return "event time "
          + Instant.ofEpochMilli(eventMillis)
          + " is more than "
          + maxAheadMillis
          + " ms (max.ahead.of.clock.ms) ahead of the clock "
          + Instant.ofEpochMilli(nowMillis);
    }
    return null;
  }
}
