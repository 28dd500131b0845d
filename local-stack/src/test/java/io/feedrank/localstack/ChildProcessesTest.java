package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Linux refuses to exec a file any process holds open for writing (ETXTBSY). This JVM holding the
 * copy of {@code /bin/true} open is the same state as a forked child holding the descriptor of the
 * Redis binary a stack is still writing.
 */
class ChildProcessesTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(ChildProcesses.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  @TempDir Path dir;

  @BeforeEach
  void listen() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void stopListening() {
    logger.detachAppender(logs);
  }

  @Test
  void aStartWaitsForItsExecutableToBeFreeToRun() throws Exception {
    Path program = executableCopyOfTrue();
    Process p;
    try (FileOutputStream writer = new FileOutputStream(program.toFile(), true)) {
      CompletableFuture<Process> started =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return ChildProcesses.start(
                      new ProcessBuilder(program.toString()), Duration.ofSeconds(30));
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  started.isDone()
                      || logs.list.stream()
                          .anyMatch(e -> e.getFormattedMessage().contains("busy")));
      assertThat(started).as("the start, while its executable is held open").isNotDone();
      writer.getFD().sync();
      writer.close();
      p = started.get(20, TimeUnit.SECONDS);
    }
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
  }

  @Test
  void aBusyExecutableStillFailsOnceThePatienceIsSpent() throws Exception {
    Path program = executableCopyOfTrue();
    try (FileOutputStream ignored = new FileOutputStream(program.toFile(), true)) {
      assertThatThrownBy(
              () ->
                  ChildProcesses.start(
                      new ProcessBuilder(program.toString()), Duration.ofMillis(200)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("error=26");
    }
  }

  @Test
  void otherFailuresAreNotRetried() {
    long start = System.nanoTime();
    assertThatThrownBy(
            () ->
                ChildProcesses.start(
                    new ProcessBuilder(dir.resolve("absent").toString()), Duration.ofSeconds(30)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("error=2,");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(logs.list).isEmpty();
  }

  private Path executableCopyOfTrue() throws IOException {
    Path program = dir.resolve("true-copy");
    Files.copy(Paths.get("/bin/true"), program);
    assertThat(program.toFile().setExecutable(true)).isTrue();
    return program;
  }
}
