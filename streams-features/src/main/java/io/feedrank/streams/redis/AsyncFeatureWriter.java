package io.feedrank.streams.redis;

import io.feedrank.streams.metrics.FeatureMetrics;
import java.util.ArrayList;
import java.util.HashMap;
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
 * Several flushes of a hot entity before the writer gets to it cost one write. A failed write is
 * merged back under newer data and retried, so nothing is lost while Redis is away; when more than
 * {@code maxPending} entities wait, {@link #write} blocks (back-pressure on the stream threads
 * instead of unbounded memory). Freshness is recorded when a write has landed.
 *
 * <p>What the writer thread does not retry (an {@link Error}, a callback's exception) ends it: it
 * says so at ERROR, {@link #failed} completes, and every write after it, waiting or new, is refused
 * with an exception, rather than waiting for ever on a thread that no longer drains.
 */
public final class AsyncFeatureWriter implements FeatureWriter, FeatureSink {
  private static final Logger log = LoggerFactory.getLogger(AsyncFeatureWriter.class);
  private static final int CHUNK = 1_000;
  private static final long RETRY_BACKOFF_MILLIS = 200;

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

  private LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
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
    submit(batch, NOBODY);
  }

  @Override
  public void submit(List<FeatureWrite> batch, Consumer<FeatureWrite> landed) {
    submit(batch, landed, NOBODY);
  }

  @Override
  public void submit(
      List<FeatureWrite> batch, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> lost) {
    synchronized (this) {
      while (pending.size() >= maxPending && !closed && died == null) {
        try {
          wait();
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
  }

  /** Entities waiting to be written. */
  public synchronized int pending() {
    return pending.size();
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
    return new Pending(
        new FeatureWrite(newer.write().key(), fields, latest, partial),
        newer.landed() != NOBODY ? newer.landed() : older.landed(),
        newer.lost() != NOBODY ? newer.lost() : older.lost());
  }

  private void run() {
    try {
      drain();
    } catch (Throwable e) {
      // an Error, or an exception of the code around the delegate's calls (Redis failures are
      // retried in writeAll): not one to retry. Refused first, said after: saying it may fail too
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
      LinkedHashMap<String, Pending> work;
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
        work = pending;
        pending = new LinkedHashMap<>();
        notifyAll();
      }
      if (!writeAll(work)) {
        synchronized (this) {
          // put the failed writes back underneath anything newer that arrived meanwhile
          work.forEach(
              (k, older) -> pending.merge(k, older, (newer, old) -> newerOver(old, newer)));
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
  }

  private boolean writeAll(LinkedHashMap<String, Pending> work) {
    List<Pending> all = new ArrayList<>(work.values());
    for (int i = 0; i < all.size(); i += CHUNK) {
      List<Pending> chunk = all.subList(i, Math.min(all.size(), i + CHUNK));
      Set<String> refused;
      try {
        refused = delegate.writeFindingLost(chunk.stream().map(Pending::write).toList());
      } catch (RuntimeException e) {
        metrics.redisFailure();
        if (failures++ % 50 == 0) {
          log.warn(
              "features: Redis write failed, {} entities kept for retry: {}",
              all.size() - i,
              e.toString());
        }
        // drop what was already answered (landed or refused), keep the rest
        for (int j = 0; j < i; j++) {
          work.remove(all.get(j).write().key());
        }
        return false;
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
    }
    return true;
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
