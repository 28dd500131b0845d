package io.feedrank.ranker.features;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ranker's view of features: a bounded local cache in front of the store, a circuit breaker
 * around it, and the fallbacks when it fails. Nothing here throws for a store failure.
 *
 * <p>Stale-while-revalidate: an entry younger than its fresh TTL (users and items have their own: a
 * user's last clicks matter more than an item's; each entity's is shortened by up to a quarter, by
 * its {@link Jitter}, so that entries read together are not re-read together) is used as is; one
 * older but younger than {@code maxServe} is used too and re-read in the background ({@link
 * BackgroundRefresh}), so Redis is off the request path for everything the cache knows; an entry
 * older than that, or none, is read on the request path — one round trip for all of them. When that
 * read fails or the breaker is open, entries up to {@code stale} old are used, then default
 * features, and the result says {@link Features#fallbackReason()}.
 *
 * <p>Each cache is Caffeine, bounded and expiring after the stale TTL, read through a direct-mapped
 * table of its entries ({@link EntryCache}): a request's hundreds of lookups cost an array load
 * each. A re-read that finds a hash unchanged renews its entry in place rather than replacing it
 * ({@link EntryCache#reread}).
 */
public final class CachingFeatureStore implements AutoCloseable {
  /** The lookup's fallback reasons ({@code fallback_reason}). */
  public static final String REDIS_CIRCUIT_OPEN = "redis_circuit_open";

  public static final String REDIS_UNAVAILABLE = "redis_unavailable";
  public static final String BAD_FEATURES = "bad_features";

  private static final Logger log = LoggerFactory.getLogger(CachingFeatureStore.class);

  /**
   * Features for one request. {@code fallbackReason} is null when nothing had to fall back. {@code
   * itemFetchedNanos}: when each item's features were read from the store ({@link Long#MIN_VALUE}
   * for defaults served without a read); a skipped item has neither features nor time.
   */
  public record Features(
      Parsed.User user, Parsed.Item[] items, long[] itemFetchedNanos, String fallbackReason) {}

  /** Cache timings; {@code userFresh, itemFresh <= maxServe <= stale}. */
  public record Ttls(Duration userFresh, Duration itemFresh, Duration maxServe, Duration stale) {
    public Ttls {
      if (userFresh.compareTo(maxServe) > 0 || itemFresh.compareTo(maxServe) > 0) {
        throw new IllegalArgumentException(
            "fresh TTLs must not exceed the max serve age " + maxServe.toMillis() + " ms");
      }
      if (maxServe.compareTo(stale) > 0) {
        throw new IllegalArgumentException(
            "max serve age " + maxServe.toMillis() + " ms exceeds the stale TTL");
      }
    }
  }

  /**
   * A cached value and when the store last gave it. A read that gives another value replaces the
   * entry; a re-read that gives the same one (an unchanged hash keeps its parsed features) renews
   * it in place, through {@link EntryCache#reread}.
   */
  static final class Entry {
    private final long id;
    private final Object value;
    private final long writtenNanos;
    private volatile long fetchedNanos;

    /**
     * Set by the request that names this entry to the background refresh ({@link
     * BackgroundRefresh#mark}), so that the requests after it do not name it again; reset when that
     * refresh fails or renews the entry.
     */
    volatile boolean refreshQueued;

    Entry(long id, Object value, long fetchedNanos) {
      this.id = id;
      this.value = value;
      this.writtenNanos = fetchedNanos;
      this.fetchedNanos = fetchedNanos;
    }

    long id() {
      return id;
    }

    Object value() {
      return value;
    }

    /** When the store last gave this entry's value. */
    long fetchedNanos() {
      return fetchedNanos;
    }

    /** When this entry was put into the cache: where Caffeine's expiry counts from. */
    long writtenNanos() {
      return writtenNanos;
    }

    /**
     * A re-read at {@code stamp} gave this entry's value again. An older stamp does not move the
     * time back; two renewals racing can keep the earlier of their stamps, which only makes the
     * entry look older than it is, so it is re-read sooner, never served past its TTLs.
     */
    void renew(long stamp) {
      if (stamp - fetchedNanos > 0) {
        fetchedNanos = stamp;
      }
      refreshQueued = false;
    }
  }

  private final FeatureStore store;
  private final EntryCache users;
  private final EntryCache items;
  private final long userFreshNanos;
  private final long itemFreshNanos;
  private final long maxServeNanos;

  /**
   * {@link System#nanoTime}, one instance for every cache of the ranker: the service's and the
   * warm-up's then have the same clock class at each call site, and the JIT's code for them, made
   * during the warm-up, stays valid when the service's requests come.
   */
  public static final LongSupplier SYSTEM_NANOS = System::nanoTime;

  private final CircuitBreaker breaker;
  private final LongSupplier nanoClock;
  private final BackgroundRefresh refresh;
  private final Timer requestReads;
  private final Timer backgroundReads;
  private final Counter hits;
  private final Counter refreshed;
  private final Counter misses;
  private final Counter failures;
  private final RedisReadFailures readFailures;

  public CachingFeatureStore(
      FeatureStore store,
      int maxEntries,
      Ttls ttls,
      CircuitBreakerConfig breakerConfig,
      MeterRegistry metrics,
      LongSupplier nanoClock) {
    this.store = store;
    this.users = new EntryCache(maxEntries / 4 + 1, ttls.stale(), nanoClock);
    this.items = new EntryCache(maxEntries, ttls.stale(), nanoClock);
    this.userFreshNanos = ttls.userFresh().toNanos();
    this.itemFreshNanos = ttls.itemFresh().toNanos();
    this.maxServeNanos = ttls.maxServe().toNanos();
    this.breaker = CircuitBreaker.of("redis", breakerConfig);
    this.nanoClock = nanoClock;
    this.requestReads = readTimer("request", metrics);
    this.backgroundReads = readTimer("background", metrics);
    this.hits = Counter.builder("ranker.feature.cache").tag("result", "hit").register(metrics);
    this.refreshed =
        Counter.builder("ranker.feature.cache").tag("result", "stale_refresh").register(metrics);
    this.misses = Counter.builder("ranker.feature.cache").tag("result", "miss").register(metrics);
    this.failures = Counter.builder("ranker.redis.failures").register(metrics);
    this.readFailures = new RedisReadFailures(nanoClock);
    this.refresh =
        new BackgroundRefresh(
            this::readIfPermitted,
            users,
            items,
            nanoClock,
            Counter.builder("ranker.feature.refresh.failures")
                .description(
                    "background refreshes that failed after Redis answered (a malformed answer,"
                        + " a bug) or on an Error; their entries stay stale until a later one"
                        + " succeeds")
                .register(metrics));
    metrics.gauge(
        "ranker.redis.breaker.open",
        breaker,
        b -> b.getState() == CircuitBreaker.State.OPEN ? 1 : 0);
  }

  /**
   * One line when Redis starts failing the ranker and one when it is back: the breaker opening
   * (requests served from the cache, stale entries, then defaults) and closing again. Its probes in
   * between (half-open, open again) are for the debug level; the gauge, the fallback counters and
   * {@link RedisReadFailures}' lines tell the rest.
   */
  private void noteBreakerState() {
    CircuitBreaker.State now = breaker.getState();
    CircuitBreaker.State was = loggedState.get();
    if (now != was && loggedState.compareAndSet(was, now)) {
      logTransition(was, now);
    }
  }

  /**
   * The breaker's state as last logged, read after each call it judges: its event publisher, once
   * it has a consumer, creates an event object (with a {@code ZonedDateTime}) for every call, not
   * only for transitions. A half-open state passed through between two calls goes unseen; it is not
   * logged anyway.
   */
  private final AtomicReference<CircuitBreaker.State> loggedState =
      new AtomicReference<>(CircuitBreaker.State.CLOSED);

  private void logTransition(CircuitBreaker.State was, CircuitBreaker.State now) {
    if (was == CircuitBreaker.State.CLOSED && now == CircuitBreaker.State.OPEN) {
      float failureRate = breaker.getMetrics().getFailureRate();
      // a failure rate above 0 means a failure among the breaker's last calls: the last one is
      // of them, not of an earlier outage
      log.warn(
          "ranker: Redis reads failing or slow (failure rate {}%, slow-call rate {}%; the last"
              + " failure: {}); circuit open: features from the cache, stale ones, then defaults"
              + " (fallback: true) until Redis answers again",
          failureRate,
          breaker.getMetrics().getSlowCallRate(),
          failureRate > 0 ? readFailures.last() : "none");
    } else if (now == CircuitBreaker.State.CLOSED) {
      log.info("ranker: Redis answers again; circuit closed");
    } else {
      log.debug("ranker: Redis circuit {} -> {}", was, now);
    }
  }

  /** Breaker settings: failure and slow-call rate over the last 20 calls. */
  public static CircuitBreakerConfig breakerConfig(
      int failureRatePercent, Duration slowCall, Duration openFor) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(20)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(failureRatePercent)
        .slowCallRateThreshold(failureRatePercent)
        .slowCallDurationThreshold(slowCall)
        .waitDurationInOpenState(openFor)
        .permittedNumberOfCallsInHalfOpenState(2)
        .recordExceptions(RuntimeException.class)
        .build();
  }

  public Features get(long userId, long[] itemIds) {
    return get(userId, itemIds, null);
  }

  /**
   * The user's features and those of the items not {@code skip}ped (by index, at least as long as
   * the ids; null: none skipped); a skipped item is neither looked up nor counted, and its entry in
   * the result is null.
   */
  public Features get(long userId, long[] itemIds, boolean[] skip) {
    return lookup(true, userId, itemIds, skip);
  }

  /** The features of these items alone, as {@link #get} finds them (its fallbacks included). */
  public Parsed.Item[] items(long[] itemIds) {
    return lookup(false, 0, itemIds, null).items();
  }

  private Features lookup(boolean withUser, long userId, long[] itemIds, boolean[] skip) {
    long now = nanoClock.getAsLong();
    Entry user = withUser ? users.get(userId, now) : null;
    boolean syncUser = withUser && !servable(user, now);
    boolean staleUser =
        withUser && !syncUser && Jitter.expired(userId, now - user.fetchedNanos(), userFreshNanos);
    if (staleUser && BackgroundRefresh.mark(user)) {
      refresh.user(userId);
    }
    Parsed.Item[] out = new Parsed.Item[itemIds.length];
    long[] fetchedAt = new long[itemIds.length];
    // made at the first miss: a request whose candidates are all cached allocates neither
    int[] missing = null;
    Entry[] missingEntries = null; // what the cache held for each miss (stale, or null)
    int m = 0;
    int stale = 0;
    int skipped = 0;
    long[] named = null; // stale entries this request names to the background refresh
    int nn = 0;
    for (int i = 0; i < itemIds.length; i++) {
      if (skip != null && skip[i]) {
        skipped++;
        continue;
      }
      Entry e = items.get(itemIds[i], now);
      if (servable(e, now)) {
        out[i] = (Parsed.Item) e.value();
        fetchedAt[i] = e.fetchedNanos();
        if (Jitter.expired(itemIds[i], now - e.fetchedNanos(), itemFreshNanos)) {
          stale++;
          if (BackgroundRefresh.mark(e)) {
            if (named == null) {
              named = new long[itemIds.length - i];
            }
            named[nn++] = itemIds[i];
          }
        }
      } else {
        if (missing == null) {
          missing = new int[itemIds.length - i];
          missingEntries = new Entry[missing.length];
        }
        missingEntries[m] = e;
        missing[m++] = i;
      }
    }
    if (nn > 0) {
      refresh.items(named, nn);
    }
    int known = itemIds.length - skipped - m + (withUser && !syncUser ? 1 : 0);
    stale += staleUser ? 1 : 0; // served stale and re-read in the background, like an item
    hits.increment(known - stale);
    refreshed.increment(stale);
    misses.increment(m + (syncUser ? 1 : 0));
    if (!syncUser && m == 0) {
      Parsed.User u = withUser ? (Parsed.User) user.value() : null;
      return new Features(u, out, fetchedAt, malformed(u, out, null));
    }
    long[] ids = new long[m];
    for (int k = 0; k < m; k++) {
      ids[k] = itemIds[missing[k]];
    }
    FeatureStore.Fetched fetched = null;
    String reason = null;
    if (!breaker.tryAcquirePermission()) {
      reason = REDIS_CIRCUIT_OPEN;
    } else {
      fetched = read(syncUser ? new long[] {userId} : new long[0], ids, requestReads, true);
      reason = fetched == null ? REDIS_UNAVAILABLE : null;
    }
    long stamp = nanoClock.getAsLong();
    Parsed.User u;
    if (!withUser) {
      u = null;
    } else if (!syncUser) {
      u = (Parsed.User) user.value();
    } else if (fetched != null) {
      u =
          Parsed.User.of(
              userId, fetched.users()[0], user == null ? null : (Parsed.User) user.value());
      users.reread(user, userId, u, stamp);
    } else {
      u = user != null ? (Parsed.User) user.value() : Parsed.User.UNKNOWN;
    }
    for (int k = 0; k < m; k++) {
      int i = missing[k];
      Entry held = missingEntries[k];
      if (fetched != null) {
        Parsed.Item before = held == null ? null : (Parsed.Item) held.value();
        out[i] = Parsed.Item.of(itemIds[i], fetched.items()[k], before);
        fetchedAt[i] = stamp;
        items.reread(held, itemIds[i], out[i], stamp);
      } else if (held != null) {
        out[i] = (Parsed.Item) held.value();
        fetchedAt[i] = held.fetchedNanos();
      } else {
        out[i] = Parsed.Item.UNKNOWN;
        fetchedAt[i] = Long.MIN_VALUE;
      }
    }
    return new Features(u, out, fetchedAt, malformed(u, out, reason));
  }

  /**
   * The read timer of one path. The two are apart because they answer different questions: a
   * request-path read is latency a request waits for (a miss, or an entry past the max serve age);
   * a background read batches the stale entries many requests named and waits for nobody, and is
   * larger by its batch.
   */
  private static Timer readTimer(String path, MeterRegistry metrics) {
    return Timer.builder("ranker.redis.latency")
        .description(
            "one pipelined read of features; path: request (a request waits) or background")
        .tag("path", path)
        .publishPercentileHistogram()
        // a pipelined read on the same host takes well under a millisecond
        .minimumExpectedValue(io.feedrank.ranker.RankService.FINEST_BUCKET)
        .register(metrics);
  }

  /**
   * One round trip through the breaker (whose permission the caller has), timed on {@code timer};
   * null when it failed. {@code judged}: whether the breaker counts it slow past {@code
   * redis.timeout.ms}. A background batch is not judged by its time: it reads hundreds or thousands
   * of hashes off the latency path, and would open the breaker on a healthy Redis; its failures
   * still count.
   */
  private FeatureStore.Fetched read(long[] userIds, long[] itemIds, Timer timer, boolean judged) {
    long t0 = nanoClock.getAsLong();
    try {
      FeatureStore.Fetched f = store.fetch(userIds, itemIds);
      long took = nanoClock.getAsLong() - t0;
      breaker.onSuccess(judged ? took : 0, TimeUnit.NANOSECONDS);
      noteBreakerState();
      timer.record(took, TimeUnit.NANOSECONDS);
      return f;
    } catch (RuntimeException e) {
      breaker.onError(nanoClock.getAsLong() - t0, TimeUnit.NANOSECONDS, e);
      readFailures.failed(e); // before the breaker's opening line, which names it
      noteBreakerState();
      failures.increment();
      log.debug("ranker: feature store failed: {}", e.toString());
      return null;
    } catch (Error e) {
      // not Redis's failure, but the permission must go back: one kept by each of the two probes
      // a half-open breaker lets through left it half-open with none, every read refused for good
      breaker.releasePermission();
      throw e;
    }
  }

  /** For the background refresh: a read if the breaker lets one through, else null. */
  FeatureStore.Fetched readIfPermitted(long[] userIds, long[] itemIds) {
    return breaker.tryAcquirePermission() ? read(userIds, itemIds, backgroundReads, false) : null;
  }

  private boolean servable(Entry e, long now) {
    return e != null && now - e.fetchedNanos() < maxServeNanos;
  }

  /** The reason, or "bad_features" when some hash could not be read (its defaults served). */
  private static String malformed(Parsed.User user, Parsed.Item[] items, String reason) {
    if (reason != null) {
      return reason;
    }
    if (user != null && user.malformed()) {
      return BAD_FEATURES;
    }
    for (Parsed.Item i : items) {
      if (i != null && i.malformed()) {
        return BAD_FEATURES;
      }
    }
    return null;
  }

  public CircuitBreaker.State breakerState() {
    return breaker.getState();
  }

  /** Stops the background refresh and leaves the store open: for a cache over a shared store. */
  public void closeKeepingStore() throws InterruptedException {
    refresh.close();
  }

  @Override
  public void close() throws Exception {
    try {
      closeKeepingStore();
    } finally {
      store.close(); // an interrupted wait for the refresh thread too: the store's pool is released
    }
  }
}
