package io.feedrank.ranker.features;

import com.github.benmanes.caffeine.cache.Cache;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * Re-reads cache entries that are past their fresh TTL off the request path: requests name the ids
 * (each entry once: {@link CachingFeatureStore.Entry#refreshQueued}), one daemon thread reads them
 * in pipelined batches and replaces the entries. When the store is away the ids are dropped and
 * their entries unmarked; the next request that serves them names them again.
 */
final class BackgroundRefresh implements AutoCloseable {
  private static final int MAX_BATCH = 1_000;

  private final BiFunction<long[], long[], FeatureStore.Fetched> read;
  private final Cache<Long, CachingFeatureStore.Entry> users;
  private final Cache<Long, CachingFeatureStore.Entry> items;
  private final LongSupplier nanoClock;
  private final Set<Long> pendingUsers = ConcurrentHashMap.newKeySet();
  private final Set<Long> pendingItems = ConcurrentHashMap.newKeySet();
  private final Semaphore work = new Semaphore(0);
  private final Thread thread;
  private volatile boolean running = true;

  BackgroundRefresh(
      BiFunction<long[], long[], FeatureStore.Fetched> read,
      Cache<Long, CachingFeatureStore.Entry> users,
      Cache<Long, CachingFeatureStore.Entry> items,
      LongSupplier nanoClock) {
    this.read = read;
    this.users = users;
    this.items = items;
    this.nanoClock = nanoClock;
    this.thread = new Thread(this::run, "ranker-feature-refresh");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  void user(long id, CachingFeatureStore.Entry e) {
    queue(pendingUsers, id, e);
  }

  void item(long id, CachingFeatureStore.Entry e) {
    queue(pendingItems, id, e);
  }

  private void queue(Set<Long> pending, long id, CachingFeatureStore.Entry e) {
    if (e.refreshQueued) {
      return;
    }
    e.refreshQueued = true;
    if (pending.add(id)) {
      work.release();
    }
  }

  private void run() {
    while (running) {
      long[] u = NONE;
      long[] i = NONE;
      try {
        if (!work.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
        work.drainPermits();
        u = take(pendingUsers);
        i = take(pendingItems);
        if (u.length + i.length == 0) {
          continue;
        }
        FeatureStore.Fetched f = read.apply(u, i);
        if (f != null) {
          long stamp = nanoClock.getAsLong();
          for (int k = 0; k < u.length; k++) {
            users.put(
                u[k], new CachingFeatureStore.Entry(Parsed.User.of(u[k], f.users()[k]), stamp));
          }
          for (int k = 0; k < i.length; k++) {
            items.put(
                i[k], new CachingFeatureStore.Entry(Parsed.Item.of(i[k], f.items()[k]), stamp));
          }
        }
        release(pendingUsers, u);
        release(pendingItems, i);
        if (f == null) {
          // after the release: a request that marks one of them now finds it no longer pending
          unmark(users, u);
          unmark(items, i);
        }
        if (!pendingUsers.isEmpty() || !pendingItems.isEmpty()) {
          work.release();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // a malformed answer must not end the thread; the ids are named again by later requests
        long[] droppedUsers = pendingUsers.stream().mapToLong(Long::longValue).toArray();
        long[] droppedItems = pendingItems.stream().mapToLong(Long::longValue).toArray();
        pendingUsers.clear();
        pendingItems.clear();
        unmark(users, u);
        unmark(items, i);
        unmark(users, droppedUsers);
        unmark(items, droppedItems);
      }
    }
  }

  private static final long[] NONE = new long[0];

  /** Lets the next request that serves these entries name them again. */
  private static void unmark(Cache<Long, CachingFeatureStore.Entry> cache, long[] ids) {
    for (long id : ids) {
      CachingFeatureStore.Entry e = cache.getIfPresent(id);
      if (e != null) {
        e.refreshQueued = false;
      }
    }
  }

  /** Up to a batch of the pending ids; they stay pending (not re-queued) until released. */
  private static long[] take(Set<Long> pending) {
    long[] ids = new long[Math.min(MAX_BATCH, pending.size())];
    int n = 0;
    for (Iterator<Long> it = pending.iterator(); it.hasNext() && n < ids.length; ) {
      ids[n++] = it.next();
    }
    return n == ids.length ? ids : java.util.Arrays.copyOf(ids, n);
  }

  private static void release(Set<Long> pending, long[] ids) {
    for (long id : ids) {
      pending.remove(id);
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(2_000);
  }
}
