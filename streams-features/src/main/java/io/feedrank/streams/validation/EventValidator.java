package io.feedrank.streams.validation;

import io.feedrank.events.InteractionEvent;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The rules an interaction must pass. Pure: the caller supplies the partition's stream time (the
 * latest accepted event time before this one) and the record's own timestamp, so a replay decides
 * exactly as the first run did.
 *
 * <p>An event may be ahead of the later of the two by at most {@code maxAhead}. Against stream time
 * alone, a partition that went quiet for longer than {@code maxAhead} (a night without traffic, an
 * app started after its backlog) would refuse every later event as "in the future", and with none
 * accepted its stream time would never move again. The record timestamp is the producer's clock
 * (bounded by the broker's {@code log.message.timestamp.after.max.ms}, one hour by default since
 * Kafka 4.0) or the broker's append time, so an event stamped far beyond the time it was sent is
 * still refused.
 *
 * <p>Where a broker takes any timestamp (one before Kafka 4.0, or with that bound raised, as the
 * local stack does for simulated time), a client with a clock a month fast could send an event
 * stamped a month ahead that passes the rule above and moves stream time a month on: every later
 * event of the partition would then be refused as too old, for weeks. So an event is also refused
 * when it is more than {@code maxAheadOfClock} ahead of the wall clock. An event accepted once is
 * accepted again later (the clock only moves on), so a replay still decides as the first run did.
 *
 * @param maxAhead how far an event may be ahead of stream time or of its record's timestamp,
 *     whichever is later
 * @param maxBehind how far an event may be behind stream time
 * @param maxAheadOfClock how far an event may be ahead of {@code clock}; below {@code maxBehind},
 *     no event can push stream time so far that events of the present are refused
 * @param clock the wall clock in epoch milliseconds, or null for no bound by the clock
 */
public record EventValidator(
    Duration maxAhead, Duration maxBehind, Duration maxAheadOfClock, LongSupplier clock) {
  public static final float MAX_DWELL_SECONDS = 3600f;

  /** The longest interaction_id or request_id accepted, as the ranker bounds its request_id. */
  public static final int MAX_ID_CHARS = 128;

  public EventValidator {
    if (maxAhead.isNegative() || maxBehind.isNegative() || maxAheadOfClock.isNegative()) {
      throw new IllegalArgumentException("maxAhead, maxBehind and maxAheadOfClock must be >= 0");
    }
  }

  /** Bounds by stream time and record timestamps only, not by the wall clock. */
  public EventValidator(Duration maxAhead, Duration maxBehind) {
    this(maxAhead, maxBehind, Duration.ZERO, null);
  }

  /** A failed rule: its code and a message naming the field and the bound. */
  public record Violation(ErrorCode code, String message) {}

  /**
   * @param streamTimeMillis latest accepted event time of the partition, or {@link Long#MIN_VALUE}
   *     before the first one
   * @param recordTimestampMillis the Kafka timestamp of the event's record
   */
  public Optional<Violation> check(
      InteractionEvent e, long streamTimeMillis, long recordTimestampMillis) {
    if (e.getInteractionId() == null || e.getInteractionId().isBlank()) {
      return violation(ErrorCode.MISSING_INTERACTION_ID, "interaction_id is empty");
    }
    if (e.getInteractionId().length() > MAX_ID_CHARS) {
      return violation(
          ErrorCode.ID_TOO_LONG,
          "interaction_id has "
              + e.getInteractionId().length()
              + " characters, more than "
              + MAX_ID_CHARS);
    }
    if (e.getRequestId() != null && e.getRequestId().length() > MAX_ID_CHARS) {
      return violation(
          ErrorCode.ID_TOO_LONG,
          "request_id has " + e.getRequestId().length() + " characters, more than " + MAX_ID_CHARS);
    }
    if (e.getUserId() < 0) {
      return violation(ErrorCode.NEGATIVE_USER_ID, "user_id " + e.getUserId() + " is negative");
    }
    if (e.getItemId() < 0) {
      return violation(ErrorCode.NEGATIVE_ITEM_ID, "item_id " + e.getItemId() + " is negative");
    }
    float dwell = e.getDwellSeconds();
    if (!(dwell >= 0f && dwell <= MAX_DWELL_SECONDS)) {
      return violation(
          ErrorCode.DWELL_OUT_OF_RANGE,
          "dwell_seconds " + dwell + " outside [0, " + MAX_DWELL_SECONDS + "]");
    }
    long t = e.getEventTime().toEpochMilli();
    if (t < 0) {
      // before the epoch is no event of this platform, and a sentinel such as Long.MIN_VALUE ms
      // would overflow the distances below (and the decay of every counter it reached)
      return violation(
          ErrorCode.EVENT_TIME_TOO_OLD, "event_time " + e.getEventTime() + " is before 1970");
    }
    if (clock != null) {
      long now = clock.getAsLong();
      if (t > now && t - now > maxAheadOfClock.toMillis()) {
        return violation(
            ErrorCode.EVENT_TIME_IN_FUTURE,
            "event_time "
                + e.getEventTime()
                + " is more than "
                + maxAheadOfClock
                + " ahead of the clock "
                + java.time.Instant.ofEpochMilli(now));
      }
    }
    // a record without a timestamp (negative) leaves stream time alone as the reference; before
    // the partition's first accepted event there is only the record's
    long reference =
        recordTimestampMillis < 0
            ? streamTimeMillis
            : Math.max(streamTimeMillis, recordTimestampMillis);
    if (reference != Long.MIN_VALUE && t > reference && t - reference > maxAhead.toMillis()) {
      return violation(
          ErrorCode.EVENT_TIME_IN_FUTURE,
          "event_time "
              + e.getEventTime()
              + " is more than "
              + maxAhead
              + " ahead of "
              + (reference == streamTimeMillis ? "stream time " : "its record's timestamp ")
              + java.time.Instant.ofEpochMilli(reference));
    }
    if (streamTimeMillis != Long.MIN_VALUE
        && t < streamTimeMillis
        && streamTimeMillis - t > maxBehind.toMillis()) {
      return violation(
          ErrorCode.EVENT_TIME_TOO_OLD,
          "event_time "
              + e.getEventTime()
              + " is more than "
              + maxBehind
              + " behind stream time "
              + java.time.Instant.ofEpochMilli(streamTimeMillis));
    }
    return Optional.empty();
  }

  private static Optional<Violation> violation(ErrorCode code, String message) {
    return Optional.of(new Violation(code, message));
  }
}
