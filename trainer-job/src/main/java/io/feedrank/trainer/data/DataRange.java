package io.feedrank.trainer.data;

import java.time.Duration;
import java.time.Instant;

/** An event-time range {@code [from, to)} of training examples. */
public record DataRange(Instant from, Instant to) {

  public DataRange {
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException("data range: from " + from + " is not before to " + to);
    }
  }

  /** The last {@code window} of event time before {@code now}. */
  public static DataRange last(Duration window, Instant now) {
    return new DataRange(now.minus(window), now);
  }

  public boolean contains(long eventTimeMillis) {
    return eventTimeMillis >= from.toEpochMilli() && eventTimeMillis < to.toEpochMilli();
  }

  @Override
  public String toString() {
    return "[" + from + ", " + to + ")";
  }
}
