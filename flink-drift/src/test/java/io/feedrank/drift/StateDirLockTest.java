package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One drift job per state directory: a second one, in another process as {@code ./feedrank drift}
 * would be, or in the same JVM, is refused with a message that names the directory and the holder;
 * the lock is free again when its holder releases it or is killed.
 */
class StateDirLockTest {
  @TempDir Path dir;

  @Test
  void aSecondProcessIsRefusedNamingTheFirstUntilTheFirstIsKilled() throws Exception {
    Path state = dir.resolve("drift-state");
    Process first = hold(state);
    try {
      assertThatThrownBy(() -> StateDirLock.acquire(state, "group-of-the-second"))
          .isInstanceOf(StateDirLock.HeldException.class)
          .hasMessageStartingWith(
              "another drift job holds the state directory "
                  + state
                  + " (pid "
                  + first.pid()
                  + " on ")
          .hasMessageContaining("group.id group-of-the-first")
          .hasMessageContaining("double every drift report, alert and retrain command");
      assertThat(first.isAlive()).isTrue();
    } finally {
      first.destroyForcibly(); // SIGKILL: no release of its own, the system drops the lock
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    try (StateDirLock lock = StateDirLock.acquire(state, "group-of-the-second")) {
      assertThat(lock.file()).exists().content().contains("group.id=group-of-the-second");
    }
  }

  @Test
  void aSecondLockInTheSameProcessIsRefusedAndAReleasedOneCanBeTakenAgain() {
    try (StateDirLock lock = StateDirLock.acquire(dir, "g")) {
      assertThatThrownBy(() -> StateDirLock.acquire(dir, "g"))
          .isInstanceOf(StateDirLock.HeldException.class)
          .hasMessageContaining("pid " + ProcessHandle.current().pid() + " on ");
    }
    StateDirLock.acquire(dir, "g").close();
  }

  /**
   * A second job refused in this process leaves the first one's lock in place: on Linux, closing
   * any channel of the lock file (the second one's attempt) or reading it (for the refusal's
   * message) drops this process's lock, and a job in another process then took the directory.
   */
  @Test
  void aRefusalInTheSameProcessKeepsTheLockFromOtherProcesses() throws Exception {
    Path state = dir.resolve("drift-state");
    try (StateDirLock lock = StateDirLock.acquire(state, "group-of-this-one")) {
      assertThatThrownBy(() -> StateDirLock.acquire(state, "g"))
          .isInstanceOf(StateDirLock.HeldException.class)
          .hasMessageContaining("pid " + ProcessHandle.current().pid() + " on ")
          .hasMessageContaining("group.id group-of-this-one");
      Process other = child(state);
      other.getOutputStream().close(); // one that took the lock lets go of it at once, and ends
      String out;
      try {
        assertThat(other.waitFor(60, TimeUnit.SECONDS)).as("the other process ended").isTrue();
        out = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        other.destroyForcibly();
      }
      assertThat(out)
          .as("the other process's output")
          .doesNotStartWith("held")
          .contains("another drift job holds the state directory")
          .contains("group.id group-of-this-one");
      assertThat(lock.file()).content().contains("group.id=group-of-this-one");
    }
  }

  /** A child JVM that holds the lock of {@code state}, once it says so. */
  private static Process hold(Path state) throws Exception {
    Process p = child(state);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    try {
      String line = CompletableFuture.supplyAsync(() -> readLine(out)).get(60, TimeUnit.SECONDS);
      assertThat(line).isEqualTo("held");
    } catch (Exception | AssertionError e) {
      p.destroyForcibly();
      throw e;
    }
    return p;
  }

  /** A child JVM that tries to take the lock of {@code state} and hold it. */
  private static Process child(Path state) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return new ProcessBuilder(
            java, "-cp", classpath, HoldStateDirLock.class.getName(), state.toString())
        .redirectErrorStream(true)
        .start();
  }

  private static String readLine(BufferedReader r) {
    try {
      return r.readLine();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
