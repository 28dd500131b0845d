package io.feedrank.trainer.listen;

import io.feedrank.events.RetrainCommand;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long a retrain command's run waits before it reads its data ({@code retrain.settle.ms}). The
 * drift job issues a command a few windows after a drift began, when the trainer's default range
 * (the newest {@code data.window.ms}) still holds mostly the old regime: a model trained on it and
 * judged on the newest 15% learns the world that has just ended. Waiting until the data clock is
 * {@code settle} past the command's issue time lets the new regime fill the range. A command that
 * names its own data range does not wait; nor does anything wait longer than {@code settle} of wall
 * time, in case the data clock stalls.
 */
public final class Settle {
  private static final Logger log = LoggerFactory.getLogger(Settle.class);

  private final Duration settle;
  private final Clock dataClock;

  public Settle(Duration settle, Clock dataClock) {
    if (settle.isNegative()) {
      throw new IllegalArgumentException("retrain.settle.ms must be >= 0, got " + settle);
    }
    this.settle = settle;
    this.dataClock = dataClock;
  }

  /** The data-clock instant the run of {@code c} waits for, or null if it does not wait. */
  public Instant until(RetrainCommand c) {
    if (settle.isZero() || (c.getDataFrom() != null && c.getDataTo() != null)) {
      return null;
    }
    return c.getIssuedAt().plus(settle);
  }

  /** Blocks until the data clock reaches {@link #until} or {@code settle} of wall time passed. */
  public void await(RetrainCommand c) throws InterruptedException {
    Instant until = until(c);
    if (until == null || !dataClock.instant().isBefore(until)) {
      return;
    }
    log.info(
        "trainer: command {}: waiting until data time {} (retrain.settle.ms {}) before training",
        c.getCommandId(),
        until,
        settle.toMillis());
    long wallDeadline = System.nanoTime() + settle.toNanos();
    for (Instant now = dataClock.instant();
        now.isBefore(until) && System.nanoTime() < wallDeadline;
        now = dataClock.instant()) {
      Thread.sleep(Math.max(1, Math.min(200, Duration.between(now, until).toMillis())));
    }
  }
}
