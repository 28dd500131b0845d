package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class InterruptOnShutdownTest {

  /**
   * The hook interrupts the thread that installed it and returns only once that thread has closed
   * it: the work records how it ended before the JVM halts.
   */
  @Test
  void theHookInterruptsTheWorkAndWaitsForItToClose() throws Exception {
    AtomicReference<InterruptOnShutdown> guard = new AtomicReference<>();
    CountDownLatch installed = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicBoolean recorded = new AtomicBoolean();
    Thread worker =
        new Thread(
            () -> {
              try (InterruptOnShutdown s =
                  InterruptOnShutdown.install(Duration.ofSeconds(30), "test-shutdown")) {
                guard.set(s);
                installed.countDown();
                try {
                  new CountDownLatch(1).await(30, TimeUnit.SECONDS); // a run in progress
                } catch (InterruptedException e) {
                  interrupted.set(true);
                  // the run records its end before the guard closes, and takes a while to
                  Thread.sleep(300);
                  recorded.set(true);
                }
              } catch (InterruptedException e) {
                throw new AssertionError(e);
              }
            });
    worker.start();
    assertThat(installed.await(10, TimeUnit.SECONDS)).isTrue();

    guard.get().stop();

    // returned only once the run had recorded its end and closed the guard
    assertThat(interrupted).isTrue();
    assertThat(recorded).isTrue();
    worker.join(10_000);
    assertThat(worker.isAlive()).isFalse();
  }

  @Test
  void onceClosedTheHookInterruptsNothing() {
    InterruptOnShutdown s = InterruptOnShutdown.install(Duration.ofSeconds(30), "test-shutdown");
    s.close();
    s.stop();
    assertThat(Thread.interrupted()).isFalse();
  }
}
