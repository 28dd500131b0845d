package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's lock between processes, as a prune and a promotion run by two {@code ./feedrank}
 * commands take it: an operating-system lock on {@code <root>/.registry.lock}, which a second
 * process gets once the first lets it go; none where the store is not there.
 */
class StoreLockTest {
  @TempDir Path root;

  @Test
  void aLockHeldByAnotherProcessIsTheSystemsAndIsTakenHereOnceReleased() throws Exception {
    Process other = hold(root);
    CompletableFuture<Void> tookIt = new CompletableFuture<>();
    try {
      // what StoreLock.take waits on: the system says the file is locked, by the other process
      try (FileChannel ch =
          FileChannel.open(root.resolve(StoreLock.FILE), StandardOpenOption.WRITE)) {
        assertThat(ch.tryLock()).isNull();
      }
      Thread taker =
          new Thread(
              () -> {
                try (StoreLock lock = StoreLock.take(root)) {
                  tookIt.complete(null);
                } catch (Throwable e) {
                  tookIt.completeExceptionally(e);
                }
              });
      taker.start();
      other.getOutputStream().close(); // the other process lets go and ends
      assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
      tookIt.get(60, TimeUnit.SECONDS);
    } finally {
      other.destroyForcibly();
    }
    assertThat(root.resolve(StoreLock.FILE)).exists(); // never deleted
  }

  @Test
  void noLockIsTakenNorFileWrittenWhereTheStoreIsNotThere() throws IOException {
    Path away = root.resolve("not-mounted-here");
    try (StoreLock lock = StoreLock.take(away)) {
      assertThat(away).doesNotExist();
    }
  }

  /** A child JVM that holds the lock of the store at {@code root}, once it says so. */
  private static Process hold(Path root) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process p =
        new ProcessBuilder(java, "-cp", classpath, HoldStoreLock.class.getName(), root.toString())
            .redirectErrorStream(true)
            .start();
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

  private static String readLine(BufferedReader r) {
    try {
      return r.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
