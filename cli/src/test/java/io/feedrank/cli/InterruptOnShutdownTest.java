package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
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
    CountDownLatch recording = new CountDownLatch(1);
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
                  // the run records its end before the guard closes: held here by the test
                  assertThat(recording.await(30, TimeUnit.SECONDS)).isTrue();
                  recorded.set(true);
                }
              } catch (InterruptedException e) {
                throw new AssertionError(e);
              }
            });
    worker.start();
    assertThat(installed.await(10, TimeUnit.SECONDS)).isTrue();

    Thread hook = new Thread(guard.get()::stop);
    hook.start();
    // the hook interrupted the run, and waits while the run records its end
    Awaitility.await().atMost(Duration.ofSeconds(10)).untilTrue(interrupted);
    Awaitility.await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(hook::isAlive);
    recording.countDown();
    hook.join(10_000);
    // returned only once the run had recorded its end and closed the guard
    assertThat(hook.isAlive()).isFalse();
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
