package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C during the demo ({@link Demo#cancel}, from ./feedrank demo's shutdown hook) stops a phase
 * that only an interrupt ends, as the first model's training is, and the report is written: the
 * hook waits a minute for that, then the JVM halts.
 */
class DemoCancelTest {
  @TempDir Path dir;

  @Test
  void aCancelStopsAPhaseThatOnlyAnInterruptEndsAndTheReportIsWritten() throws Exception {
    CountDownLatch inPhase = new CountDownLatch(1);
    Demo demo =
        new Demo(DemoConfig.defaults(dir), new PrintWriter(new StringWriter()), false)
            .startPlatformWith(
                () -> {
                  inPhase.countDown();
                  try {
                    new CountDownLatch(1).await(); // a training run: ended by an interrupt only
                  } catch (InterruptedException e) {
                    // as the training run leaves it: the flag set, a CancellationException
                    Thread.currentThread().interrupt();
                    throw new CancellationException("training interrupted in epoch 1");
                  }
                  throw new AssertionError("a latch nobody counts down was counted down");
                });
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    AtomicBoolean interruptKept = new AtomicBoolean();
    Thread picocli =
        new Thread(
            () -> {
              try {
                demo.run();
                ended.complete(null);
              } catch (Throwable t) {
                interruptKept.set(Thread.currentThread().isInterrupted());
                ended.complete(t);
              }
            },
            "demo-under-test");
    picocli.start();
    try {
      assertThat(inPhase.await(30, TimeUnit.SECONDS)).isTrue();
      demo.cancel();
      Throwable t = ended.get(60, TimeUnit.SECONDS);
      assertThat(t).isInstanceOf(Demo.Failure.class).hasMessage("cancelled");
      assertThat(((Demo.Failure) t).phase()).isEqualTo("start the platform");
      assertThat(demo.report().status).isEqualTo("CANCELLED");
      assertThat(dir.resolve("report.json")).content().contains("\"CANCELLED\"");
      assertThat(dir.resolve("report.md")).exists();
      // what ran the demo still sees the interrupt, once everything is stopped and written
      assertThat(interruptKept).isTrue();
    } finally {
      picocli.interrupt();
      picocli.join(30_000);
    }
  }
}
