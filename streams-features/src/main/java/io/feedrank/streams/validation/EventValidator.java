package io.feedrank.streams.validation;

import io.feedrank.events.InteractionEvent;
import java.time.Duration;
import java.util.Optional;

/**
 * The rules an interaction must pass. Pure: the caller supplies the partition's stream time (the
 * latest accepted event time before this one), so a replay decides exactly as the first run did.
 *
 * @param maxAhead how far an event may be ahead of stream time
 * @param maxBehind how far an event may be behind stream time
 */
public record EventValidator(Duration maxAhead, Duration maxBehind) {
  public static final float MAX_DWELL_SECONDS = 3600f;

  public EventValidator {
    if (maxAhead.isNegative() || maxBehind.isNegative()) {
      throw new IllegalArgumentException("maxAhead and maxBehind must be >= 0");
    }
  }

  /** A failed rule: its code and a message naming the field and the bound. */
  public record Violation(ErrorCode code, String message) {}

  /**
   * @param streamTimeMillis latest accepted event time of the partition, or {@link Long#MIN_VALUE}
   *     before the first one
   */
  public Optional<Violation> check(InteractionEvent e, long streamTimeMillis) {
    if (e.getInteractionId() == null || e.getInteractionId().isBlank()) {
      return violation(ErrorCode.MISSING_INTERACTION_ID, "interaction_id is empty");
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
    if (streamTimeMillis != Long.MIN_VALUE) {
      long t = e.getEventTime().toEpochMilli();
      if (t > streamTimeMillis + maxAhead.toMillis()) {
        return violation(
            ErrorCode.EVENT_TIME_IN_FUTURE,
            "event_time "
                + e.getEventTime()
                + " is more than "
                + maxAhead
                + " ahead of stream time "
                + java.time.Instant.ofEpochMilli(streamTimeMillis));
      }
      if (t < streamTimeMillis - maxBehind.toMillis()) {
        return violation(
            ErrorCode.EVENT_TIME_TOO_OLD,
            "event_time "
                + e.getEventTime()
                + " is more than "
                + maxBehind
                + " behind stream time "
                + java.time.Instant.ofEpochMilli(streamTimeMillis));
      }
    }
    return Optional.empty();
  }

  private static Optional<Violation> violation(ErrorCode code, String message) {
    return Optional.of(new Violation(code, message));
  }
}
