package io.feedrank.localstack;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starting child processes despite a busy executable; stopping them: SIGTERM, a bounded wait, then
 * SIGKILL of the process tree.
 */
public final class ChildProcesses {
  private static final Logger log = LoggerFactory.getLogger(ChildProcesses.class);

  /**
   * {@code pb} started, retried for up to {@code patience} while Linux refuses to run its
   * executable because a process holds it open for writing ({@code error=26, Text file busy}). A
   * stack extracts the Redis binary it runs (when none is on PATH) while another thread of the same
   * JVM starts the registry's JVM: that child holds a copy of every descriptor of this JVM from its
   * fork until {@code jspawnhelper} closes them before its exec, the binary's write descriptor
   * included if the fork fell while it was being written. The window is short, so a retry soon
   * finds the file free; a stack start failed on it without one (a verify's {@code RankSmokeIT},
   * 2026-12-07).
   */
  public static Process start(ProcessBuilder pb, Duration patience) throws IOException {
    long deadline = System.nanoTime() + patience.toNanos();
    long pauseMs = 5;
    boolean said = false;
    while (true) {
      try {
        return pb.start();
      } catch (IOException e) {
        if (!busy(e) || System.nanoTime() - deadline >= 0) {
          throw e;
        }
        if (!said) {
          log.info(
              "local-stack: {} is busy (held open for writing, most likely by a child forked"
                  + " while it was written); retrying for up to {} ms",
              pb.command().get(0),
              patience.toMillis());
          said = true;
        }
      }
      try {
        Thread.sleep(pauseMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while " + pb.command().get(0) + " was busy");
      }
      pauseMs = Math.min(pauseMs * 2, 100);
    }
  }

  /**
   * The JDK's message for ETXTBSY from exec: "Cannot run program ...: error=26, Text file busy".
   */
  private static boolean busy(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && m.contains("error=26")) {
        return true;
      }
    }
    return false;
  }

  public static void stop(Process p, String name, long graceSeconds) {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(graceSeconds, TimeUnit.SECONDS)) {
        log.warn(
            "local-stack: {} (pid {}) did not stop within {} s; killing it",
            name,
            p.pid(),
            graceSeconds);
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private ChildProcesses() {}
}
