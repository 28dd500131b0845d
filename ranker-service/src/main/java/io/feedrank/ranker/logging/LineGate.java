package io.feedrank.ranker.logging;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When a rate-limited log line may be written: the first at once, then at most one per interval,
 * decided by one thread of any number that ask at the same moment. For what recurs with traffic (a
 * failing dependency, bad data) and would otherwise be a line per request, or none at the debug
 * level; the caller counts what happened in between and says the count in the line.
 */
public final class LineGate {
  private static final long FIRST = Long.MIN_VALUE;

  private final long everyNanos;
  private final AtomicLong next = new AtomicLong(FIRST);

  public LineGate(Duration every) {
    this.everyNanos = every.toNanos();
  }

  /**
   * Whether a line is due at {@code nowNanos} ({@link System#nanoTime}'s scale), or at once when
   * {@code force}; when it is, the next is an interval away.
   */
  public boolean due(long nowNanos, boolean force) {
    long at = next.get();
    return (force || at == FIRST || nowNanos - at >= 0)
        && next.compareAndSet(at, nowNanos + everyNanos);
  }

  /** As new: the next line is due at once. */
  public void reset() {
    next.set(FIRST);
  }
}
