package io.feedrank.ranker.features;

import io.feedrank.ranker.logging.LineGate;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Re-reads cache entries that are past their fresh TTL off the request path: a request names its
 * stale entries (each entry once: {@link #mark}) in one chunk, one daemon thread reads the named
 * ids in pipelined batches and replaces the entries. When the store is away the ids are dropped and
 * their entries unmarked; the next request that serves them names them again.
 *
 * <p>A chunk per request rather than a concurrent set of ids: a JFR profile of two-tower requests
 * at 1,000 candidates put 19% of the request threads' samples in inserting the stale ids one by one
 * into a {@code ConcurrentHashMap} key set; the per-entry flag already keeps an id from being named
 * twice.
 */
final class BackgroundRefresh implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackgroundRefresh.class);
  private static final int MAX_BATCH = 1_000;

  /** At most one log line per this many nanoseconds for failed refreshes; all are counted. */
  private final LineGate failureLines = new LineGate(Duration.ofMinutes(1));

  /**
   * How long the thread lets requests go on naming entries before it reads what they named: a read
   * of many ids costs little more than a read of a few, and without the wait it read about once per
   * request (nearly every request names its user, whose fresh TTL is short, and a few items whose
   * entries went stale one by one). Not waited while a backlog is read in full batches.
   */
  static final long COALESCE_NANOS = 5_000_000L;

  private final BiFunction<long[], long[], FeatureStore.Fetched> read;
  private final EntryCache users;
  private final EntryCache items;
  private final LongSupplier nanoClock;
  private final Queue<long[]> pendingUsers = new ConcurrentLinkedQueue<>();
  private final Queue<long[]> pendingItems = new ConcurrentLinkedQueue<>();
  private final Semaphore work = new Semaphore(0);
  private final Counter failures;
  private final Thread thread;
  private volatile boolean running = true;

  BackgroundRefresh(
      BiFunction<long[], long[], FeatureStore.Fetched> read,
      EntryCache users,
      EntryCache items,
      LongSupplier nanoClock,
      Counter failures) {
    this.read = read;
    this.failures = failures;
    this.users = users;
    this.items = items;
    this.nanoClock = nanoClock;
    this.thread = new Thread(this::run, "ranker-feature-refresh");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Claims a stale entry for the caller to name: true once per entry, until its refresh fails, or
   * lands and renews the entry (a refresh that replaces it leaves a new, unclaimed entry).
   */
  static boolean mark(CachingFeatureStore.Entry e) {
    if (e.refreshQueued) {
      return false;
    }
    e.refreshQueued = true;
    return true;
  }

  /** Names a user whose entry the caller has {@link #mark marked}. */
  void user(long id) {
    pendingUsers.add(new long[] {id});
    work.release();
  }

  /** Names the first {@code n} of {@code ids}, whose entries the caller has marked. */
  void items(long[] ids, int n) {
    if (n > 0) {
      pendingItems.add(n == ids.length ? ids : Arrays.copyOf(ids, n));
      work.release();
    }
  }

  private void run() {
    boolean behind = false; // the last read took a full batch: more are queued
    while (running) {
      long[] u = NONE;
      long[] i = NONE;
      try {
        if (!work.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
        if (!behind) {
          LockSupport.parkNanos(COALESCE_NANOS); // returns at once when close interrupts
        }
        work.drainPermits();
        u = take(pendingUsers);
        i = take(pendingItems);
        behind = u.length >= MAX_BATCH || i.length >= MAX_BATCH;
        if (u.length + i.length == 0) {
          continue;
        }
        FeatureStore.Fetched f = read.apply(u, i);
        if (f != null) {
          long stamp = nanoClock.getAsLong();
          // an unchanged hash keeps its parsed features (and what a scorer left on them)
          for (int k = 0; k < u.length; k++) {
            CachingFeatureStore.Entry held = users.get(u[k], stamp);
            Parsed.User before = (Parsed.User) valueOf(held);
            users.reread(held, u[k], Parsed.User.of(u[k], f.users()[k], before), stamp);
          }
          for (int k = 0; k < i.length; k++) {
            CachingFeatureStore.Entry held = items.get(i[k], stamp);
            Parsed.Item before = (Parsed.Item) valueOf(held);
            items.reread(held, i[k], Parsed.Item.of(i[k], f.items()[k], before), stamp);
          }
        } else {
          unmark(users, u);
          unmark(items, i);
        }
        if (!pendingUsers.isEmpty() || !pendingItems.isEmpty()) {
          work.release();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | Error e) {
        // a malformed answer, a bug or an Error (a StackOverflowError, a class that cannot be
        // loaded) must not end the thread: the ids requests name would pile up unread, for ever.
        // They are named again by later requests. Counted, and logged at most once a minute (an
        // Error at ERROR): it recurs with every refresh. An OutOfMemoryError of the heap ends the
        // JVM before it gets here (-XX:+ExitOnOutOfMemoryError)
        failures.increment();
        if (failureLines.due(System.nanoTime(), false)) {
          log.atLevel(e instanceof Error ? Level.ERROR : Level.WARN)
              .setCause(e)
              .log(
                  "ranker: a background feature refresh of {} users and {} items failed; the"
                      + " entries stay stale until a later one succeeds",
                  u.length,
                  i.length);
        }
        unmark(users, u);
        unmark(items, i);
        for (long[] c; (c = pendingUsers.poll()) != null; ) {
          unmark(users, c);
        }
        for (long[] c; (c = pendingItems.poll()) != null; ) {
          unmark(items, c);
        }
      }
    }
  }

  private static final long[] NONE = new long[0];

  private static Object valueOf(CachingFeatureStore.Entry e) {
    return e == null ? null : e.value();
  }

  /** Lets the next request that serves these entries name them again. */
  private void unmark(EntryCache cache, long[] ids) {
    long now = nanoClock.getAsLong();
    for (long id : ids) {
      CachingFeatureStore.Entry e = cache.get(id, now);
      if (e != null) {
        e.refreshQueued = false;
      }
    }
  }

  /** Whole chunks, up to about a batch of ids (a chunk is at most one request's candidates). */
  private static long[] take(Queue<long[]> pending) {
    long[] ids = NONE;
    int n = 0;
    for (long[] c; n < MAX_BATCH && (c = pending.poll()) != null; ) {
      if (n + c.length > ids.length) {
        ids = Arrays.copyOf(ids, Math.max(n + c.length, 2 * ids.length));
      }
      System.arraycopy(c, 0, ids, n, c.length);
      n += c.length;
    }
    return n == ids.length ? ids : Arrays.copyOf(ids, n);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(2_000);
  }
}
