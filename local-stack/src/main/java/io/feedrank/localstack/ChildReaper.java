package io.feedrank.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Makes sure a child process does not outlive this JVM, even when the JVM is killed with SIGKILL (a
 * test run stopped by a CI timeout, a crash): a small {@code sh} watcher polls this JVM's pid and
 * terminates the child when the JVM is gone. The watcher ends by itself when the child exits;
 * {@link #close()} ends it at once.
 */
public final class ChildReaper implements AutoCloseable {
  private final Process watcher;

  private ChildReaper(Process watcher) {
    this.watcher = watcher;
  }

  /** Starts watching {@code child} on behalf of the current JVM. */
  public static ChildReaper watch(Process child) {
    long jvm = ProcessHandle.current().pid();
    long pid = child.pid();
    String script =
        "while kill -0 "
            + jvm
            + " 2>/dev/null && kill -0 "
            + pid
            + " 2>/dev/null; do sleep 1; done; "
            + "if kill -0 "
            + pid
            + " 2>/dev/null; then kill -TERM "
            + pid
            + "; sleep 5; kill -KILL "
            + pid
            + " 2>/dev/null; fi";
    try {
      Process watcher =
          new ProcessBuilder("/bin/sh", "-c", script)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      return new ChildReaper(watcher);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the child-process watcher", e);
    }
  }

  @Override
  public void close() {
    watcher.descendants().forEach(ProcessHandle::destroyForcibly);
    watcher.destroyForcibly();
  }
}
