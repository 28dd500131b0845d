package io.feedrank.streams.redis;

import io.feedrank.streams.metrics.FeatureMetrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes Redis I/O off the stream threads: {@link #write} merges the batch into a pending map (newer
 * fields of the same key win) and returns; one writer thread drains it through the delegate.
 * Several flushes of a hot entity before the writer gets to it cost one write. The thread writes
 * chunks of at most {@value #CHUNK} entities; a failed chunk is merged back under newer data and
 * retried, so nothing is lost while Redis is away. Freshness is recorded when a write has landed.
 *
 * <p>It holds at most {@code maxPending} entities, waiting and on their way together, and the batch
 * that found the last room: a chunk frees its room when it has landed, and a failed one goes back
 * in the queue, so a Redis outage cannot grow it. (It counted only the queue, which each attempt
 * emptied and its failure refilled: every retry let in another {@code maxPending}, until it held
 * every entity changed during the outage, a map of fields each.) Without room, {@link #submit}
 * waits at most {@value #MAX_WAIT_MILLIS} ms for a chunk to land, and not at all while Redis is
 * failing, then refuses the batch whole, which its caller keeps ({@link FeatureSink#hasRoom});
 * {@link #write}, whose caller (the global tables' thread) could not keep a refused write, waits as
 * long as it takes.
 *
 * <p>What the writer thread does not retry (an {@link Error}, a callback's exception) ends it: it
 * says so at ERROR, {@link #failed} completes, and every write after it, waiting or new, is refused
 * with an exception, rather than waiting for ever on a thread that no longer drains.
 */
public final class AsyncFeatureWriter implements FeatureWriter, FeatureSink {
  private static final Logger log = LoggerFactory.getLogger(AsyncFeatureWriter.class);
  private static final int CHUNK = 1_000;
  private static final long RETRY_BACKOFF_MILLIS = 200;

  /**
   * The longest {@link #submit} waits for room: a stream thread waits in its punctuation, inside an
   * exactly-once transaction that times out after 10 s.
   */
  static final long MAX_WAIT_MILLIS = 1_000;

  private final FeatureWriter delegate;
  private final FeatureMetrics metrics;
  private final int maxPending;
  private final Thread thread;

  /**
   * A write waiting for the writer thread, whom to tell when it has landed, and whom when it was
   * refused, its hash lost ({@link FeatureWriter#writeFindingLost}).
   */
  private record Pending(
      FeatureWrite write, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> lost) {}

  /** Whom a write submitted without callbacks tells: nobody (see {@link #newerOver}). */
  private static final Consumer<FeatureWrite> NOBODY = w -> {};

  private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();

  /** Entities the writer thread took from {@link #pending} and has not yet seen land. */
  private int writing;

  /** Whether the last attempt failed: no room frees before the next one, 200 ms on at best. */
  private boolean failing;

  private boolean closed;
  private long failures;

  /** What ended the writer thread, or null. */
  private Throwable died;

  private final CompletableFuture<Void> failed = new CompletableFuture<>();

  public AsyncFeatureWriter(FeatureWriter delegate, FeatureMetrics metrics, int maxPending) {
    this.delegate = delegate;
    this.metrics = metrics;
    this.maxPending = maxPending;
    this.thread = new Thread(this::run, "features-redis-writer");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void write(List<FeatureWrite> batch) {
    enqueue(batch, NOBODY, NOBODY, false);
  }

  @Override
  public void submit(List<FeatureWrite> batch, Consumer<FeatureWrite> landed) {
    submit(batch, landed, NOBODY);
  }

  /**
   * @throws IllegalStateException when the writer has had no room for {@value #MAX_WAIT_MILLIS} ms,
   *     or has none while Redis is failing; nothing of the batch was taken, and the caller keeps it
   */
  @Override
  public void submit(
      List<FeatureWrite> batch, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> lost) {
    enqueue(batch, landed, lost, true);
  }

  private synchronized void enqueue(
      List<FeatureWrite> batch,
      Consumer<FeatureWrite> landed,
      Consumer<FeatureWrite> lost,
      boolean waitBounded) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MILLIS);
    while (pending() >= maxPending && !closed && died == null) {
      long leftNanos = deadline - System.nanoTime();
      if (waitBounded && (failing || leftNanos <= 0)) {
        throw new IllegalStateException(
            "features: the Redis writer holds "
                + pending()
                + " entities, maxPending "
                + maxPending
                + (failing
                    ? ", and Redis is failing"
                    : ", and had no room for " + MAX_WAIT_MILLIS + " ms")
                + ": a batch of "
                + batch.size()
                + " refused");
      }
      try {
        if (waitBounded) {
          TimeUnit.NANOSECONDS.timedWait(this, leftNanos);
        } else {
          wait();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the Redis writer", e);
      }
    }
    if (died != null) {
      throw new IllegalStateException("the Redis writer thread died of " + died, died);
    }
    for (FeatureWrite w : batch) {
      pending.merge(w.key(), new Pending(w, landed, lost), AsyncFeatureWriter::newerOver);
    }
    notifyAll();
  }

  /** Whether a {@link #submit} now is taken without waiting: fewer than maxPending are held. */
  @Override
  public synchronized boolean hasRoom() {
    return pending() < maxPending;
  }

  /** Entities the writer holds: waiting, or on their way to the store. */
  public synchronized int pending() {
    return pending.size() + writing;
  }

  /**
   * Completes when the writer thread has died: nothing more reaches Redis, and the process should
   * end so that whatever runs it restarts it (what was waiting is still pending in the stream
   * tasks' changelogged stores).
   */
  public CompletableFuture<Void> failed() {
    return failed.copy();
  }

  /**
   * The newer write's fields over the older's, partial only if both were (a whole write's fields
   * are all in the merge). A user's profile and an item's catalog metadata, written from the global
   * tables' thread, meet the stream threads' state writes of the same key here. They are partial
   * (they leave out the state): taken for whole ones, they made a partial state write merged with
   * them whole, and over a hash Redis had lost it was applied rather than refused, so the user was
   * not written whole again. Refused, the merged write sets the profile's fields no more than the
   * state's; the whole write that follows carries both.
   *
   * <p>Whom to tell: the newer write's callbacks, or the older's when the newer came without any
   * ({@link #write}: the tables' writes). Dropped under a profile written after it, the state
   * write's landing was never heard of: its entity stayed "on its way" in the pending store until
   * its next event, and a refusal was never heard of either. Between two writes with callbacks the
   * newer's are enough: the entity's task submitted both, forgets the entity only when its latest
   * version has landed, and ignores an earlier version's landing. Keeping both would chain one more
   * pair (holding its batch's versions) per flush of a busy entity while Redis is away.
   */
  private static Pending newerOver(Pending older, Pending newer) {
    Map<String, String> fields = new HashMap<>(older.write().fields());
    fields.putAll(newer.write().fields());
    long latest = Math.max(older.write().latestEventMillis(), newer.write().latestEventMillis());
    // whole if either was: the merged fields hold all the whole one had
    boolean partial = older.write().partial() && newer.write().partial();
    // the lower base: the merge carries the categories of both, the older's since its base
    long base = lowerBase(older.write().baseEvents(), newer.write().baseEvents());
    return new Pending(
        new FeatureWrite(newer.write().key(), fields, latest, partial, base),
        newer.landed() != NOBODY ? newer.landed() : older.landed(),
        newer.lost() != NOBODY ? newer.lost() : older.lost());
  }

  /** The lower of two {@link FeatureWrite#baseEvents}, a known one over {@link #NO_BASE}. */
  private static long lowerBase(long a, long b) {
    if (a == NO_BASE) {
      return b;
    }
    return b == NO_BASE ? a : Math.min(a, b);
  }

  private void run() {
    try {
      drain();
    } catch (Throwable e) {
      // an Error, or an exception of the code around the delegate's calls (Redis failures are
      // retried in drain): not one to retry. Refused first, said after: saying it may fail too
      // (out of memory), and the stream threads must not wait on this thread any longer
      synchronized (this) {
        died = e;
        notifyAll(); // the stream threads waiting for room
      }
      failed.complete(null);
      log.error(
          "features: the Redis writer thread died; writes are refused from now on and the app"
              + " has failed (what was not written stays pending in the stream tasks' stores)",
          e);
    }
  }

  private void drain() {
    while (true) {
      List<Pending> chunk = new ArrayList<>();
      synchronized (this) {
        while (pending.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (pending.isEmpty()) {
          return; // closed and drained
        }
        // the oldest first; they still count against maxPending until they have landed
        for (Iterator<Pending> it = pending.values().iterator();
            it.hasNext() && chunk.size() < CHUNK; ) {
          chunk.add(it.next());
          it.remove();
        }
        writing = chunk.size();
      }
      RuntimeException failure = writeChunk(chunk);
      if (failure == null) {
        synchronized (this) {
          writing = 0;
          failing = false;
          notifyAll(); // room for the stream threads
        }
        continue;
      }
      synchronized (this) {
        writing = 0;
        failing = true;
        // put the failed writes back underneath anything newer that arrived meanwhile
        for (Pending older : chunk) {
          pending.merge(older.write().key(), older, (newer, old) -> newerOver(old, newer));
        }
        notifyAll(); // a submit waiting for room is refused now, not at its deadline
        if (failures++ % 50 == 0) {
          log.warn(
              "features: Redis write failed, {} entities kept for retry: {}",
              pending.size(),
              failure.toString());
        }
        if (closed) {
          log.warn("features: closing with {} entities not written to Redis", pending.size());
          return;
        }
        // the whole backoff, though every submit notifies this monitor: woken by each flush,
        // the thread retried at the flush rate of every task against a Redis that refused
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_BACKOFF_MILLIS);
        long left;
        while (!closed && (left = until - System.nanoTime()) > 0) {
          try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }
  }

  /**
   * One attempt at a chunk; whom to tell is told.
   *
   * @return what it failed of (nothing of the chunk is taken as written), or null
   */
  private RuntimeException writeChunk(List<Pending> chunk) {
    Set<String> refused;
    try {
      refused = delegate.writeFindingLost(chunk.stream().map(Pending::write).toList());
    } catch (RuntimeException e) {
      metrics.redisFailure();
      return e;
    }
    long now = System.currentTimeMillis();
    for (Pending p : chunk) {
      if (refused.contains(p.write().key())) {
        p.lost().accept(p.write());
        continue;
      }
      if (p.write().latestEventMillis() != NO_EVENT) {
        metrics.freshness(now - p.write().latestEventMillis());
      }
      p.landed().accept(p.write());
    }
    return null;
  }

  /** Writes what is pending (one attempt), then stops the writer thread and closes the delegate. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    delegate.close();
  }
}
