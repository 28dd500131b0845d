package io.feedrank.trainer.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.trainer.RefusedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AttemptsTest {
  private final List<Duration> waits = new ArrayList<>();
  private final Attempts three = new Attempts(3, Duration.ofSeconds(60), waits::add);

  /** A run that fails its first {@code failures} times, then succeeds. */
  private static Attempts.Run failing(int failures, AtomicInteger runs) {
    return () -> {
      if (runs.incrementAndGet() <= failures) {
        throw new IllegalStateException("registry away (" + runs.get() + ")");
      }
    };
  }

  /** A run that throws {@code e} every time. */
  private static Attempts.Run throwing(RuntimeException e, AtomicInteger runs) {
    return () -> {
      runs.incrementAndGet();
      throw e;
    };
  }

  @Test
  void aFailedRunIsTriedAgainAfterABackoffThatDoubles() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    three.run("c1", 0, failing(2, runs), () -> false);
    assertThat(runs).hasValue(3);
    assertThat(waits).containsExactly(Duration.ofSeconds(60), Duration.ofSeconds(120));
  }

  @Test
  void theLastAttemptsFailureIsThrown() {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> three.run("c1", 0, failing(5, runs), () -> false))
        .hasMessage("registry away (3)");
    assertThat(runs).hasValue(3);
    assertThat(waits).hasSize(2);
  }

  @Test
  void failuresBeforeARestartCountAgainstTheAttempts() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> three.run("c1", 2, failing(5, runs), () -> false))
        .hasMessage("registry away (1)");
    assertThat(runs).hasValue(1);
    assertThat(waits).isEmpty();
    assertThat(three.exhausted(2)).isFalse();
    assertThat(three.exhausted(3)).isTrue();
  }

  @Test
  void aRunThatWroteToTheRegistryIsNotRunAgain() {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> three.run("c1", 0, failing(5, runs), () -> true))
        .hasMessage("registry away (1)");
    assertThat(runs).hasValue(1);
    assertThat(waits).hasSize(1); // asked after the wait, when the broker may be back
  }

  /**
   * The registry cannot be read after a wait (the broker still away): that attempt counts as failed
   * without a run, since the failed run may have decided; the next asks again.
   */
  @Test
  void anAttemptThatCannotTellWhetherARunDecidedCountsWithoutARun() {
    AtomicInteger runs = new AtomicInteger();
    AtomicInteger asked = new AtomicInteger();
    assertThatThrownBy(
            () ->
                three.run(
                    "c1",
                    0,
                    failing(5, runs),
                    () -> {
                      if (asked.incrementAndGet() == 1) {
                        throw new IllegalStateException("timed out reading model-registry");
                      }
                      return false;
                    }))
        .hasMessage("registry away (2)");
    assertThat(runs).hasValue(2);
    assertThat(asked).hasValue(2);
    assertThat(waits).containsExactly(Duration.ofSeconds(60), Duration.ofSeconds(120));
  }

  @Test
  void refusalsAndShutdownsAreNotTriedAgain() {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(
            () -> three.run("c1", 0, throwing(new RefusedException("too few"), runs), () -> false))
        .isInstanceOf(RefusedException.class);
    assertThatThrownBy(
            () ->
                three.run(
                    "c2", 0, throwing(new CancellationException("shutdown"), runs), () -> false))
        .isInstanceOf(CancellationException.class);
    assertThat(runs).hasValue(2);
    assertThat(waits).isEmpty();
  }

  @Test
  void anInterruptedRunIsNotTriedAgain() {
    AtomicInteger runs = new AtomicInteger();
    try {
      assertThatThrownBy(
              () ->
                  three.run(
                      "c1",
                      0,
                      () -> {
                        runs.incrementAndGet();
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted in a Kafka read");
                      },
                      () -> false))
          .hasMessageContaining("interrupted");
    } finally {
      Thread.interrupted();
    }
    assertThat(runs).hasValue(1);
  }

  @Test
  void aFirstWaitOverAnHourIsAnHour() throws Exception {
    Attempts slow = new Attempts(2, Duration.ofHours(3), waits::add);
    slow.run("c1", 0, failing(1, new AtomicInteger()), () -> false);
    assertThat(waits).containsExactly(Duration.ofHours(1));
  }

  @Test
  void theWaitIsCappedAtAnHour() throws Exception {
    Attempts many = new Attempts(10, Duration.ofMinutes(20), waits::add);
    many.run("c1", 0, failing(4, new AtomicInteger()), () -> false);
    assertThat(waits)
        .containsExactly(
            Duration.ofMinutes(20),
            Duration.ofMinutes(40),
            Duration.ofHours(1),
            Duration.ofHours(1));
  }
}
