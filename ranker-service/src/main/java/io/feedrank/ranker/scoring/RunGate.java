package io.feedrank.ranker.scoring;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many full-model ONNX Runtime calls may run at once, shared by every model a ranker serves
 * (the cores are the process's, not a model's): {@code onnx.max.concurrent.runs}. Request threads
 * still parse, fetch features and vectorize in parallel, and queue here, first come first served,
 * for the model call only. With one intra-op thread per call and as many permits as cores, the
 * calls stop slicing each other's time and caches: 7-18% less CPU per request at 100 candidates, at
 * the price of a longer p99 at 1,000 (BENCHMARKS.md, 2026-12-03). Off by default.
 */
public final class RunGate {
  /** No limit. */
  public static final RunGate NONE = new RunGate(0);

  private final Semaphore permits;
  private final int limit;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();

  private RunGate(int limit) {
    this.limit = limit;
    this.permits = limit > 0 ? new Semaphore(limit, true) : null;
  }

  /** A gate of {@code limit} concurrent calls; 0 is {@link #NONE}. */
  public static RunGate of(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("a gate of " + limit + " calls");
    }
    return limit == 0 ? NONE : new RunGate(limit);
  }

  /** The most calls at once, 0 for no limit. */
  public int limit() {
    return limit;
  }

  /** Calls running now (inside the gate). */
  public int running() {
    return running.get();
  }

  /** The most calls that ran at once so far. */
  public int peak() {
    return peak.get();
  }

  /** Waits for a permit (not interruptible: a request in its model call finishes it). */
  void enter() {
    if (permits != null) {
      permits.acquireUninterruptibly();
    }
    int now = running.incrementAndGet();
    if (now > peak.get()) {
      peak.accumulateAndGet(now, Math::max);
    }
  }

  void leave() {
    running.decrementAndGet();
    if (permits != null) {
      permits.release();
    }
  }
}
