package io.feedrank.streams.topology;

import java.time.Duration;

/**
 * When a task writes its changed entities to Redis. At every punctuation ({@code
 * redis.flush.interval.ms}) while the records it processes are recent; at most every {@code
 * catchUp} while they are more than {@code catchUp} behind the wall clock, as when the app works
 * through a backlog. Then a feature written now is already that old, waiting up to as long again at
 * most doubles how stale it is, and the next write of the same entity replaces it anyway: fewer
 * flushes render each changed user and item fewer times.
 *
 * <p>Behind is measured by the task's stream time: the largest record timestamp it has processed
 * (the producer's clock, or the simulator's event time).
 */
final class FlushSchedule {
  private final long catchUpMillis;
  private long last = Long.MIN_VALUE;

  /**
   * @param catchUp the flush interval while catching up; zero flushes at every punctuation
   */
  FlushSchedule(Duration catchUp) {
    if (catchUp.isNegative()) {
      throw new IllegalArgumentException("catch-up flush interval must be >= 0, got " + catchUp);
    }
    this.catchUpMillis = catchUp.toMillis();
  }

  /**
   * @param wallClockMillis the punctuation's time
   * @param streamTimeMillis the task's stream time (negative before its first record)
   * @return whether to flush now; a flush that is due is recorded as done
   */
  boolean due(long wallClockMillis, long streamTimeMillis) {
    boolean behind =
        catchUpMillis > 0
            && streamTimeMillis >= 0
            && wallClockMillis - streamTimeMillis > catchUpMillis;
    if (behind && last != Long.MIN_VALUE && wallClockMillis - last < catchUpMillis) {
      return false;
    }
    last = wallClockMillis;
    return true;
  }
}
