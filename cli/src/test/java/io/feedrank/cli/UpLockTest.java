package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One {@code ./feedrank up} per checkout from its first moment: a second one is refused while the
 * first is still starting (it has announced nothing yet), before it starts or writes anything.
 */
class UpLockTest {
  @TempDir Path home;

  @Test
  void aSecondLockInTheSameProcessIsRefusedAndAReleasedOneCanBeTakenAgain() {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    long pid = ProcessHandle.current().pid();
    try (UpLock first = UpLock.acquire(env)) {
      assertThatThrownBy(() -> UpLock.acquire(env))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "another ./feedrank up (pid "
                  + pid
                  + ") is running from this checkout; other commands use it by themselves."
                  + " Stop it first to start another");
      assertThat(home.resolve(".feedrank").resolve("up.lock")).content().contains("pid=" + pid);
    }
    UpLock.acquire(env).close();
  }

  /**
   * A second {@code up} in another process, as it would be started from another terminal a few
   * seconds after the first: refused at once, naming the first, with nothing started (the first's
   * stack.properties, written once its start completes, does not exist yet).
   */
  @Test
  void anUpStartedWhileAnotherIsStartingIsRefusedBeforeItStartsAnything() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    try (UpLock first = UpLock.acquire(env)) {
      String java = ProcessHandle.current().info().command().orElse("java");
      String classpath =
          System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      ProcessBuilder b =
          new ProcessBuilder(java, "-cp", classpath, Main.class.getName(), "up", "--stack-only")
              .redirectErrorStream(true);
      b.environment().put("FEEDRANK_HOME", home.toString());
      Process second = b.start();
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(second.getInputStream(), StandardCharsets.UTF_8));
        String said =
            CompletableFuture.supplyAsync(() -> firstLineOfUp(out)).get(120, TimeUnit.SECONDS);
        assertThat(said)
            .isEqualTo(
                "feedrank up: another ./feedrank up (pid "
                    + ProcessHandle.current().pid()
                    + ") is running from this checkout; other commands use it by themselves."
                    + " Stop it first to start another");
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isEqualTo(1);
      } finally {
        second.destroyForcibly();
        second.waitFor(30, TimeUnit.SECONDS);
      }
      assertThat(Files.exists(home.resolve(".feedrank").resolve("stack.properties"))).isFalse();
    }
  }

  /** The first line up prints itself (not a component's log line), or null at the end. */
  private static String firstLineOfUp(BufferedReader r) {
    try {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith("feedrank up:")) {
          return line;
        }
      }
      return null;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
