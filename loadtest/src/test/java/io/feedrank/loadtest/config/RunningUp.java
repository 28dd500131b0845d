package io.feedrank.loadtest.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * The running {@code ./feedrank up}'s announcement in {@code .feedrank/stack.properties}, read as
 * cli's {@code Endpoints} reads it (this module does not depend on cli): taken only while its up
 * holds the lock on {@code .feedrank/up.lock} and its pid is alive, since an up that was killed
 * leaves the file behind.
 */
final class RunningUp {
  private RunningUp() {}

  /** The {@code ranker.url} the running up of {@code stateDir} announced, if one runs. */
  static Optional<String> rankerUrl(Path stateDir) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(stateDir.resolve("stack.properties"))) {
      p.load(in);
    } catch (IOException e) {
      return Optional.empty(); // none (no up runs), or unreadable
    }
    String ranker = p.getProperty("ranker.url");
    long pid;
    try {
      pid = Long.parseLong(p.getProperty("pid", "-1"));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    if (ranker == null
        || !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        || !lockHeld(stateDir.resolve("up.lock"))) {
      return Optional.empty();
    }
    return Optional.of(ranker);
  }

  /** Whether a process holds the lock: a shared lock, taken and released at once, conflicts. */
  private static boolean lockHeld(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      FileLock probe = channel.tryLock(0, Long.MAX_VALUE, true);
      if (probe == null) {
        return true;
      }
      probe.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true; // held by this JVM
    } catch (IOException e) {
      return false; // no lock file: no up ran
    }
  }
}
