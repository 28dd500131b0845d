package io.feedrank.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * While open, a shutdown of the JVM (Ctrl-C, SIGTERM) interrupts the thread that opened it and
 * waits for that thread to close it, up to a bound: the work in progress stops at its next check
 * and records how it ended (a training run, CANCELLED) before the JVM halts. Without it, the run
 * would be left RUNNING in the run store for good.
 */
final class InterruptOnShutdown implements AutoCloseable {
  private final Thread worker = Thread.currentThread();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Duration bound;
  private final Thread hook;

  private InterruptOnShutdown(Duration bound, String name) {
    this.bound = bound;
    this.hook = new Thread(this::stop, name);
  }

  /**
   * Interrupts the calling thread at a shutdown until {@link #close}; waits up to {@code bound}.
   */
  static InterruptOnShutdown install(Duration bound, String name) {
    InterruptOnShutdown s = new InterruptOnShutdown(bound, name);
    Runtime.getRuntime().addShutdownHook(s.hook);
    return s;
  }

  /** The hook's work: interrupt the worker, wait for it to close. */
  void stop() {
    if (closed.getCount() == 0) {
      return;
    }
    worker.interrupt();
    try {
      closed.await(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs, finds this closed, and returns
    }
  }
}
