package io.feedrank.trainer.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SettleTest {
  static final Instant ISSUED = Instant.parse("2026-11-23T07:50:00Z");

  static RetrainCommand command(Instant from, Instant to) {
    return RetrainCommand.newBuilder()
        .setCommandId("c1")
        .setModelName("m")
        .setIssuedAt(ISSUED)
        .setReason(RetrainReason.FEATURE_DRIFT)
        .setDataFrom(from)
        .setDataTo(to)
        .build();
  }

  /** A data clock that moves {@code step} forward each time it is read. */
  static final class SteppingClock extends Clock {
    final AtomicLong millis;
    final long step;

    SteppingClock(Instant start, Duration step) {
      this.millis = new AtomicLong(start.toEpochMilli());
      this.step = step.toMillis();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.getAndAdd(step));
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void aDefaultRangeCommandWaitsUntilTheDataClockIsSettlePastItsIssueTime() throws Exception {
    SteppingClock clock = new SteppingClock(ISSUED, Duration.ofMinutes(7));
    Settle s = new Settle(Duration.ofHours(1), clock);
    assertThat(s.until(command(null, null))).isEqualTo(Instant.parse("2026-11-23T08:50:00Z"));
    s.await(command(null, null));
    // it read the clock until it passed 08:50: 07:50 + 9 readings of 7 min = 08:53
    assertThat(Instant.ofEpochMilli(clock.millis.get()))
        .isAfter(Instant.parse("2026-11-23T08:50:00Z"))
        .isBefore(Instant.parse("2026-11-23T09:10:00Z"));
  }

  @Test
  void aCommandWithItsOwnRangeOrASettleOfZeroDoesNotWait() throws Exception {
    SteppingClock clock = new SteppingClock(ISSUED, Duration.ZERO);
    RetrainCommand ranged =
        command(Instant.parse("2026-11-23T06:00:00Z"), Instant.parse("2026-11-23T07:00:00Z"));
    assertThat(new Settle(Duration.ofHours(1), clock).until(ranged)).isNull();
    assertThat(new Settle(Duration.ZERO, clock).until(command(null, null))).isNull();
    // a stalled clock would block these for an hour if they waited
    new Settle(Duration.ofHours(1), clock).await(ranged);
    new Settle(Duration.ZERO, clock).await(command(null, null));
  }

  @Test
  void aStalledDataClockHoldsTheRunNoLongerThanTheSettleTimeInWallTime() throws Exception {
    SteppingClock stalled = new SteppingClock(ISSUED, Duration.ZERO);
    long t0 = System.nanoTime();
    new Settle(Duration.ofMillis(300), stalled).await(command(null, null));
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300));
  }

  @Test
  void aNegativeSettleIsRefused() {
    assertThatThrownBy(() -> new Settle(Duration.ofMillis(-1), Clock.systemUTC()))
        .hasMessageContaining("retrain.settle.ms");
  }
}
