package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The cache and fallback logic above the store, with a scripted store (Redis itself: the IT). */
class CachingFeatureStoreTest {
  static final long MS = 1_000_000L;

  static final class ScriptedStore implements FeatureStore {
    // read by the cache's background refresh thread too
    final Map<String, Map<String, String>> data = new java.util.concurrent.ConcurrentHashMap<>();
    final List<long[]> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<Long> userCalls = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile boolean down;

    /** Run first in each fetch: a test's clock moves on in it, for a read that takes time. */
    volatile Runnable onFetch = () -> {};

    /** Answers one item hash fewer than asked for: a malformed answer. */
    volatile boolean shortAnswer;

    final java.util.concurrent.atomic.AtomicInteger refused =
        new java.util.concurrent.atomic.AtomicInteger();

    volatile boolean closed;

    @Override
    public void close() {
      closed = true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Fetched fetch(long[] userIds, long[] itemIds) {
      onFetch.run();
      if (down) {
        refused.incrementAndGet();
        throw new IllegalStateException("connection refused");
      }
      calls.add(itemIds.clone());
      userCalls.add(userIds.length == 0 ? -1L : userIds[0]);
      Map<String, String>[] items = new Map[itemIds.length - (shortAnswer ? 1 : 0)];
      for (int i = 0; i < items.length; i++) {
        items[i] = data.getOrDefault("i" + itemIds[i], Map.of());
      }
      Map<String, String>[] users = new Map[userIds.length];
      for (int i = 0; i < userIds.length; i++) {
        users[i] = data.getOrDefault("u" + userIds[i], Map.of());
      }
      return new Fetched(users, items);
    }
  }

  /** A real feature hash whose _ts is {@code ts}. */
  static Map<String, String> hash(long ts) {
    io.feedrank.features.state.ItemState s = new io.feedrank.features.state.ItemState();
    s.add(
        io.feedrank.events.InteractionEvent.newBuilder()
            .setInteractionId("e")
            .setUserId(1)
            .setItemId(2)
            .setEventTime(java.time.Instant.ofEpochMilli(ts))
            .setClick(false)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(1f)
            .build());
    return s.toHash(null);
  }

  static Map<String, String> userHash(long ts) {
    io.feedrank.features.state.UserState u = new io.feedrank.features.state.UserState();
    u.add(
        io.feedrank.events.InteractionEvent.newBuilder()
            .setInteractionId("e")
            .setUserId(1)
            .setItemId(2)
            .setEventTime(java.time.Instant.ofEpochMilli(ts))
            .setClick(false)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(1f)
            .build(),
        "news");
    return u.toHash();
  }

  /**
   * Closed on an interrupted thread (the ranker's start cut short by Ctrl-C), the cache still
   * closes its store: the wait for the refresh thread, here in a read the interrupt does not end,
   * gives up at once, and the Redis pool was left open after it.
   */
  @Test
  void closedOnAnInterruptedThreadTheCacheStillClosesItsStore() throws Exception {
    CachingFeatureStore swr = cache(Duration.ofSeconds(5));
    swr.get(1, new long[] {10});
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean answer =
        new java.util.concurrent.atomic.AtomicBoolean();
    store.onFetch =
        () -> {
          reading.countDown();
          while (!answer.get()) {
            java.util.concurrent.locks.LockSupport.parkNanos(MS);
          }
        };
    now.addAndGet(500 * MS); // stale, servable: read again in the background
    swr.get(1, new long[] {10});
    assertThat(reading.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(swr::close).isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
      answer.set(true);
    }
    assertThat(store.closed).isTrue();
  }

  @Test
  void aMalformedHashServesDefaultsAndIsReported() {
    store.data.put("i5", Map.of("_v", "1", "_ts", "x"));
    CachingFeatureStore.Features f = cache.get(1, new long[] {5});
    assertThat(f.items()[0].malformed()).isTrue();
    assertThat(f.fallbackReason()).isEqualTo("bad_features");
  }

  final AtomicLong now = new AtomicLong(1_000 * MS);
  final ScriptedStore store = new ScriptedStore();

  /** Every cache a test made: each runs a background refresh thread until it is closed. */
  final java.util.List<CachingFeatureStore> opened = new java.util.ArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void closeCaches() throws InterruptedException {
    for (CachingFeatureStore c : opened) {
      c.closeKeepingStore();
    }
  }

  // fresh = max serve: anything past its TTL is read on the request path
  final CachingFeatureStore cache = cache(Duration.ofMillis(100));

  /** Fresh for 100 ms, served up to {@code maxServe} old, stale after 10 s. */
  CachingFeatureStore cache(Duration maxServe) {
    return cache(maxServe, new SimpleMeterRegistry());
  }

  CachingFeatureStore cache(
      Duration maxServe, io.micrometer.core.instrument.MeterRegistry metrics) {
    return cache(100, maxServe, metrics);
  }

  /** Up to {@code maxEntries} items, fresh for 100 ms, served up to {@code maxServe} old. */
  CachingFeatureStore cache(
      int maxEntries, Duration maxServe, io.micrometer.core.instrument.MeterRegistry metrics) {
    CachingFeatureStore c =
        new CachingFeatureStore(
            store,
            maxEntries,
            new CachingFeatureStore.Ttls(
                Duration.ofMillis(100), Duration.ofMillis(100), maxServe, Duration.ofSeconds(10)),
            CachingFeatureStore.breakerConfig(50, Duration.ofSeconds(1), Duration.ofSeconds(5)),
            metrics,
            now::get);
    opened.add(c);
    return c;
  }

  /** A cache whose breaker, once open, stays open for 200 ms (the breaker's own clock). */
  CachingFeatureStore shortOpen() {
    CachingFeatureStore c =
        new CachingFeatureStore(
            store,
            100,
            new CachingFeatureStore.Ttls(
                Duration.ofMillis(100),
                Duration.ofMillis(100),
                Duration.ofMillis(100),
                Duration.ofSeconds(10)),
            CachingFeatureStore.breakerConfig(50, Duration.ofSeconds(1), Duration.ofMillis(200)),
            new SimpleMeterRegistry(),
            now::get);
    opened.add(c);
    return c;
  }

  /** Opens {@code c}'s breaker with failed reads, then brings the store back. */
  void open(CachingFeatureStore c) {
    store.down = true;
    for (int i = 0; i < 30; i++) {
      now.addAndGet(200 * MS);
      c.get(1, new long[] {i});
    }
    assertThat(c.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    store.down = false;
  }

  @Test
  void freshEntriesAreServedFromTheCacheAndOnlyMissingOnesAreFetchedInOneCall() {
    store.data.put("u1", userHash(1));
    store.data.put("i10", hash(10));
    store.data.put("i11", hash(11));
    CachingFeatureStore.Features f = cache.get(1, new long[] {10, 11});
    assertThat(f.fallbackReason()).isNull();
    assertThat(f.user().ts()).isEqualTo("1");
    assertThat(f.items()[1].ts()).isEqualTo("11");
    assertThat(store.calls).hasSize(1);

    now.addAndGet(50 * MS);
    f = cache.get(1, new long[] {11, 12, 10});
    assertThat(store.calls).hasSize(2);
    assertThat(store.calls.get(1)).containsExactly(12); // only the one not cached
    assertThat(store.userCalls.get(1)).isEqualTo(-1L); // the user was fresh
    assertThat(f.items()[0].ts()).isEqualTo("11");
    assertThat(f.items()[1].unknown()).isTrue(); // unknown item: default features
    assertThat(f.items()[2].ts()).isEqualTo("10");

    now.addAndGet(60 * MS); // 110 ms after the first read: the first two are stale now
    store.data.put("i10", hash(20));
    f = cache.get(1, new long[] {10});
    assertThat(store.calls.get(2)).containsExactly(10);
    assertThat(store.userCalls.get(2)).isEqualTo(1L);
    assertThat(f.items()[0].ts()).isEqualTo("20");
  }

  @Test
  void whenTheStoreFailsStaleEntriesThenDefaultsServeAndTheResultSaysSo() {
    store.data.put("u1", userHash(1));
    store.data.put("i10", hash(10));
    cache.get(1, new long[] {10});
    now.addAndGet(500 * MS);
    store.down = true;
    CachingFeatureStore.Features f = cache.get(1, new long[] {10, 11});
    assertThat(f.fallbackReason()).isEqualTo("redis_unavailable");
    assertThat(f.user().ts()).isEqualTo("1"); // stale but known
    assertThat(f.items()[0].ts()).isEqualTo("10");
    assertThat(f.items()[1]).isSameAs(Parsed.Item.UNKNOWN); // never seen, not read: defaults
  }

  /** An operator reads one line when Redis goes and one when it is back, not one per request. */
  @Test
  void theBreakerSaysOnceThatItOpenedAndOnceThatItClosed() {
    Logger logger = (Logger) LoggerFactory.getLogger(CachingFeatureStore.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    CachingFeatureStore shortOpen = shortOpen();
    try {
      open(shortOpen);
      // once open time is over, two permitted probes succeed and close it
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                now.addAndGet(200 * MS);
                shortOpen.get(1, new long[] {1_000});
                return shortOpen.breakerState() == CircuitBreaker.State.CLOSED;
              });
    } finally {
      logger.detachAppender(logs);
    }
    List<String> lines =
        logs.list.stream()
            .filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("ranker: Redis reads failing or slow (failure rate 100.0%");
    assertThat(lines.get(1)).isEqualTo("ranker: Redis answers again; circuit closed");
  }

  /** The lines {@code type}'s logger says while {@code run} runs, at INFO and above. */
  static List<ILoggingEvent> linesOf(Class<?> type, Runnable run) {
    Logger logger = (Logger) LoggerFactory.getLogger(type);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      run.run();
    } finally {
      logger.detachAppender(logs);
    }
    synchronized (logs) {
      return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO)).toList();
    }
  }

  /**
   * Reads failing below the breaker's threshold (a rotated password here) are said, once a minute
   * with the count since and the last failure, not once per read: they used to be said at the debug
   * level only, each request served stale or default features with nothing in the log.
   */
  @Test
  void failedReadsBelowTheBreakersThresholdAreSaidOnceAMinuteWithTheLastFailure() {
    store.data.put("u1", userHash(1));
    java.util.concurrent.atomic.AtomicBoolean refuse =
        new java.util.concurrent.atomic.AtomicBoolean();
    store.onFetch =
        () -> {
          if (refuse.get()) {
            throw new redis.clients.jedis.exceptions.JedisAccessControlException(
                "WRONGPASS invalid username-password pair");
          }
        };
    // reads of 5 OK, 3 failed, 6 OK, then a minute later 1 failed: 4 failed of the last 15, under
    // the breaker's 50%
    java.util.function.Consumer<Boolean> read =
        fail -> {
          refuse.set(fail);
          now.addAndGet(200 * MS); // past the max serve age: each get reads the store
          String reason = cache.get(1, new long[] {10}).fallbackReason();
          assertThat(reason).isEqualTo(fail ? "redis_unavailable" : null);
        };
    List<ILoggingEvent> lines =
        linesOf(
            RedisReadFailures.class,
            () -> {
              for (boolean fail :
                  new boolean[] {false, false, false, false, false, true, true, true}) {
                read.accept(fail);
              }
              for (int i = 0; i < 6; i++) {
                read.accept(false);
              }
              now.addAndGet(60_000 * MS);
              read.accept(true);
            });
    assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(lines).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.WARN));
    assertThat(lines.stream().map(ILoggingEvent::getFormattedMessage))
        .containsExactly(
            "ranker: 1 Redis read(s) of features failed since the last such line"
                + " (ranker.redis.failures; requests get cached, stale or default features"
                + " meanwhile); the last:"
                + " redis.clients.jedis.exceptions.JedisAccessControlException: WRONGPASS invalid"
                + " username-password pair (the next line in a minute at the earliest)",
            "ranker: 3 Redis read(s) of features failed since the last such line"
                + " (ranker.redis.failures; requests get cached, stale or default features"
                + " meanwhile); the last:"
                + " redis.clients.jedis.exceptions.JedisAccessControlException: WRONGPASS invalid"
                + " username-password pair (the next line in a minute at the earliest)");
  }

  /**
   * The breaker's opening line names the failure that opened it, with what Jedis puts under it (as
   * Jedis 8 fails a connection: each address's failure suppressed): the failure rate alone did not
   * tell a rotated password from a moved host or a timeout.
   */
  @Test
  void theBreakersOpeningLineNamesTheLastFailureAndWhatLiesUnderIt() {
    store.onFetch =
        () -> {
          var e =
              new redis.clients.jedis.exceptions.JedisConnectionException(
                  "Failed to connect to 10.0.0.7:6379.");
          e.addSuppressed(new java.net.ConnectException("Connection refused"));
          throw e;
        };
    List<ILoggingEvent> lines =
        linesOf(
            CachingFeatureStore.class,
            () -> {
              for (int i = 0; i < 5; i++) {
                now.addAndGet(200 * MS);
                cache.get(1, new long[] {i});
              }
            });
    assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(lines)
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getFormattedMessage())
                    .startsWith(
                        "ranker: Redis reads failing or slow (failure rate 100.0%, slow-call rate"
                            + " 0.0%; the last failure:"
                            + " redis.clients.jedis.exceptions.JedisConnectionException: Failed to"
                            + " connect to 10.0.0.7:6379. (cause: java.net.ConnectException:"
                            + " Connection refused)); circuit open"));
  }

  /**
   * A failure is said with its root cause when its message does not already say it, and in a
   * bounded length, whatever the length of its message.
   */
  @Test
  void aFailureIsSaidWithItsRootCauseInABoundedLength() {
    assertThat(
            RedisReadFailures.describe(
                new redis.clients.jedis.exceptions.JedisConnectionException(
                    "Failed to create socket.",
                    new java.net.UnknownHostException(
                        "redis.feedrank.svc: Name or service not known"))))
        .isEqualTo(
            "redis.clients.jedis.exceptions.JedisConnectionException: Failed to create socket."
                + " (cause: java.net.UnknownHostException: redis.feedrank.svc: Name or service not"
                + " known)");
    // Jedis's timeout says its cause in its message: not twice
    assertThat(
            RedisReadFailures.describe(
                new redis.clients.jedis.exceptions.JedisConnectionException(
                    new java.net.SocketTimeoutException("Read timed out"))))
        .isEqualTo(
            "redis.clients.jedis.exceptions.JedisConnectionException:"
                + " java.net.SocketTimeoutException: Read timed out");
    String said =
        RedisReadFailures.describe(
            new redis.clients.jedis.exceptions.JedisDataException(
                "LOADING Redis is loading the dataset in memory " + "x".repeat(1_000)));
    assertThat(said)
        .hasSize(RedisReadFailures.MAX_CHARS)
        .startsWith("redis.clients.jedis.exceptions.JedisDataException: LOADING Redis is loading")
        .endsWith("x…");
  }

  /**
   * An Error out of a read the half-open breaker let through (a probe) gives its permission back:
   * it kept it, and with both probes' permissions kept the breaker stayed half-open and refused
   * every read for as long as the ranker ran, every request served stale or default features.
   */
  @Test
  void anErrorInAProbeLeavesTheBreakerAbleToClose() {
    CachingFeatureStore shortOpen = shortOpen();
    open(shortOpen);
    java.util.concurrent.atomic.AtomicInteger errors =
        new java.util.concurrent.atomic.AtomicInteger(2);
    store.onFetch =
        () -> {
          if (errors.getAndDecrement() > 0) {
            throw new StackOverflowError("test");
          }
        };
    int[] thrown = {0};
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              now.addAndGet(200 * MS);
              try {
                shortOpen.get(1, new long[] {1_000});
              } catch (StackOverflowError e) {
                thrown[0]++;
              }
              return shortOpen.breakerState() == CircuitBreaker.State.CLOSED;
            });
    assertThat(thrown[0]).isEqualTo(2);
  }

  @Test
  void theBreakerOpensAfterFailuresAndStopsCallingTheStore() {
    store.down = true;
    for (int i = 0; i < 5; i++) {
      now.addAndGet(200 * MS);
      assertThat(cache.get(1, new long[] {i}).fallbackReason()).isEqualTo("redis_unavailable");
    }
    assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    store.down = false;
    CachingFeatureStore.Features f = cache.get(1, new long[] {99});
    assertThat(f.fallbackReason()).isEqualTo("redis_circuit_open");
    assertThat(store.calls).isEmpty();
  }

  /**
   * Reads slower than the slow-call threshold (1 s here) open the breaker when a request waits for
   * them, not when the background refresh makes them: its batches are large and off the latency
   * path. Its twenty slow reads leave the breaker closed; ten slow request reads, half of the last
   * twenty calls, open it.
   */
  @Test
  void slowBackgroundReadsDoNotOpenTheBreakerSlowRequestReadsDo() {
    store.onFetch = () -> now.addAndGet(1_500 * MS);
    for (int i = 0; i < 20; i++) {
      assertThat(cache.readIfPermitted(new long[0], new long[] {i})).isNotNull();
    }
    assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    for (int i = 0; i < 10; i++) {
      assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
      assertThat(cache.get(1, new long[] {100 + i}).fallbackReason()).isNull();
    }
    assertThat(cache.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(cache.get(1, new long[] {200}).fallbackReason()).isEqualTo("redis_circuit_open");
  }

  /**
   * Items read together go stale spread over the last quarter of their fresh TTL, each at its own
   * {@link Jitter}, not all at once: with 100 ms, none of 2,000 at 74 ms, about half at 87.5 ms
   * (binomial: 1,000 ± 22), all at 100 ms. The store is down after the first read, so the
   * background re-reads fail and every entry keeps its read time.
   */
  @Test
  void itemsReadTogetherGoStaleSpreadOverTheLastQuarterOfTheirFreshTtl() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(10_000, Duration.ofSeconds(1), metrics);
    try {
      long[] ids = new long[2_000];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = 1_000 + i;
        store.data.put("i" + ids[i], hash(ids[i]));
      }
      swr.get(1, ids);
      assertThat(store.calls).hasSize(1);
      store.down = true;
      long t0 = now.get();
      java.util.function.LongFunction<Double> staleAt =
          ms -> {
            now.set(t0 + ms);
            double before =
                metrics.counter("ranker.feature.cache", "result", "stale_refresh").count();
            CachingFeatureStore.Features f = swr.get(1, ids);
            assertThat(f.fallbackReason()).isNull(); // served from the cache, stale or not
            return metrics.counter("ranker.feature.cache", "result", "stale_refresh").count()
                - before;
          };
      // the user, read with them, goes stale at its own share of the TTL and counts as one more
      assertThat(staleAt.apply(74 * MS)).isZero();
      assertThat(staleAt.apply(87 * MS + MS / 2)).isBetween(900.0, 1_101.0);
      assertThat(staleAt.apply(99 * MS)).isBetween(1_880.0, 2_000.0); // 96%: 1,920 ± 9
      assertThat(staleAt.apply(100 * MS)).isEqualTo(2_001.0);
    } finally {
      swr.close();
    }
  }

  /**
   * A user past its fresh TTL is served and re-read in the background, as an item is, and counted
   * as such ({@code stale_refresh}), not as a hit.
   */
  @Test
  void aStaleUserIsCountedAsAStaleRefreshNotAHit() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(Duration.ofSeconds(1), metrics);
    java.util.function.ToDoubleFunction<String> count =
        result -> metrics.counter("ranker.feature.cache", "result", result).count();
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10});
      assertThat(count.applyAsDouble("miss")).isEqualTo(2);
      swr.get(1, new long[] {10});
      assertThat(count.applyAsDouble("hit")).isEqualTo(2);
      now.addAndGet(500 * MS); // both past their fresh TTL, young enough to serve
      swr.get(1, new long[] {10});
      assertThat(count.applyAsDouble("stale_refresh")).isEqualTo(2);
      assertThat(count.applyAsDouble("hit")).isEqualTo(2);
    } finally {
      swr.close();
    }
  }

  /** Fresh for 100 ms, served up to 1 s old (re-read in the background), stale after 10 s. */
  CachingFeatureStore staleWhileRevalidate() {
    return cache(Duration.ofSeconds(1));
  }

  @Test
  void entriesPastTheirFreshTtlAreServedAtOnceAndReReadInTheBackground() throws Exception {
    CachingFeatureStore swr = staleWhileRevalidate();
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10});
      assertThat(store.calls).hasSize(1);

      now.addAndGet(500 * MS); // stale, but young enough to serve
      store.data.put("i10", hash(20));
      CachingFeatureStore.Features f = swr.get(1, new long[] {10});
      assertThat(f.items()[0].ts()).isEqualTo("10"); // the cached value, without waiting
      assertThat(f.fallbackReason()).isNull();
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          // the background re-read (the stale user and item may go in one batch or two)
          .until(() -> store.calls.size() >= 2);
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> swr.get(1, new long[] {10}).items()[0].ts().equals("20"));

      now.addAndGet(2_000 * MS); // past the max serve age: read on the request path
      store.data.put("i10", hash(30));
      int before = store.calls.size();
      assertThat(swr.get(1, new long[] {10}).items()[0].ts()).isEqualTo("30");
      assertThat(store.calls.size()).isGreaterThan(before);
    } finally {
      swr.close();
    }
  }

  /**
   * Each read of the store is timed once, on the path it was made on: what a request waited for
   * apart from what the background refresh read for nobody.
   */
  @Test
  void readsAreTimedByTheirPathRequestOrBackground() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(Duration.ofSeconds(1), metrics);
    java.util.function.ToLongFunction<String> reads =
        path -> metrics.timer("ranker.redis.latency", "path", path).count();
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10, 11}); // cold: read while the request waits
      assertThat(reads.applyAsLong("request")).isEqualTo(1);
      assertThat(reads.applyAsLong("background")).isZero();

      now.addAndGet(500 * MS); // stale but servable: re-read in the background
      swr.get(1, new long[] {10, 11});
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> reads.applyAsLong("background") >= 1);
      assertThat(reads.applyAsLong("request")).isEqualTo(1);

      now.addAndGet(2_000 * MS); // past the max serve age: the request reads again
      swr.get(1, new long[] {10});
      assertThat(reads.applyAsLong("request")).isEqualTo(2);
      swr.closeKeepingStore();
      assertThat(reads.applyAsLong("request") + reads.applyAsLong("background"))
          .isEqualTo(store.calls.size());
    } finally {
      swr.close();
    }
  }

  /**
   * A re-read of an unchanged hash keeps the parsed entry, on the request path and in the
   * background; a hash changed by a late event, whose {@code _ts} stays, replaces it.
   */
  @Test
  void aReReadOfAnUnchangedHashKeepsTheEntryAndALateEventReplacesIt() throws Exception {
    io.feedrank.features.state.ItemState s = new io.feedrank.features.state.ItemState();
    s.add(ParsedTest.event(10, 20_000, false));
    store.data.put("u1", userHash(1));
    store.data.put("i10", s.toHash(null));
    Parsed.Item first = cache.get(1, new long[] {10}).items()[0];

    now.addAndGet(200 * MS); // past max serve: read again on the request path
    int before = store.calls.size();
    Parsed.Item kept = cache.get(1, new long[] {10}).items()[0];
    assertThat(store.calls).hasSize(before + 1);
    assertThat(kept).isSameAs(first);

    s.add(ParsedTest.event(10, 15_000, true)); // late: _ts stays 20000
    store.data.put("i10", s.toHash(null));
    now.addAndGet(200 * MS);
    Parsed.Item replaced = cache.get(1, new long[] {10}).items()[0];
    assertThat(replaced.ts()).isEqualTo(first.ts());
    assertThat(replaced.state()).isEqualTo(s).isNotEqualTo(first.state());

    // in the background: served stale, re-read, then served fresh — the same entry
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(Duration.ofSeconds(1), metrics);
    try {
      Parsed.Item entry = swr.get(1, new long[] {10}).items()[0];
      now.addAndGet(500 * MS);
      // each call serves the user and the item; two hits once both re-reads have landed
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                double h = metrics.counter("ranker.feature.cache", "result", "hit").count();
                Parsed.Item served = swr.get(1, new long[] {10}).items()[0];
                assertThat(served).isSameAs(entry);
                return metrics.counter("ranker.feature.cache", "result", "hit").count() - h == 2;
              });
      assertThat(store.calls.size()).isGreaterThan(before + 3);
    } finally {
      swr.close();
    }
  }

  /**
   * A stale entry is named to the background refresh once, not by every request that serves it;
   * when that refresh fails, the next request names it again.
   */
  @Test
  void aStaleEntryIsNamedOnceAndAgainAfterItsRefreshFailed() throws Exception {
    CachingFeatureStore swr = staleWhileRevalidate();
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10});
      now.addAndGet(500 * MS); // stale, servable
      store.down = true;
      assertThat(swr.get(1, new long[] {10}).items()[0].ts()).isEqualTo("10");
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> store.refused.get() >= 1);
      store.down = false;
      store.data.put("i10", hash(20));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> swr.get(1, new long[] {10}).items()[0].ts().equals("20"));

      // fresh again, then stale: many requests, one background read of the item
      now.addAndGet(500 * MS);
      int before = store.calls.size();
      for (int k = 0; k < 50; k++) {
        swr.get(1, new long[] {10});
      }
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> store.calls.size() > before);
      long itemReads =
          store.calls.subList(before, store.calls.size()).stream()
              .filter(ids -> ids.length > 0)
              .count();
      assertThat(itemReads).isEqualTo(1);
    } finally {
      swr.close();
    }
  }

  /**
   * A background refresh that fails after Redis answered (here: one hash fewer than asked for) is
   * counted, the thread goes on, the entry stays servable and a later refresh replaces it.
   */
  @Test
  void aFailedBackgroundRefreshIsCountedAndALaterOneSucceeds() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(100, Duration.ofSeconds(5), metrics);
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10});
      now.addAndGet(500 * MS); // stale, servable
      store.shortAnswer = true;
      store.data.put("i10", hash(20));
      assertThat(swr.get(1, new long[] {10}).items()[0].ts()).isEqualTo("10");
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> metrics.get("ranker.feature.refresh.failures").counter().count() >= 1);
      assertThat(swr.get(1, new long[] {10}).items()[0].ts()).isEqualTo("10");
      store.shortAnswer = false;
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> swr.get(1, new long[] {10}).items()[0].ts().equals("20"));
    } finally {
      swr.close();
    }
  }

  /**
   * An Error in a background refresh (here a StackOverflowError from the store, once) is counted
   * and said at ERROR with its stack trace, and the thread goes on: a later refresh replaces the
   * entry. It used to end the thread, after which no stale entry was refreshed again and the ids
   * requests named piled up unread.
   */
  @Test
  void anErrorInABackgroundRefreshIsSaidAndALaterOneSucceeds() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore swr = cache(100, Duration.ofSeconds(5), metrics);
    Logger logger = (Logger) LoggerFactory.getLogger(BackgroundRefresh.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      store.data.put("u1", userHash(1));
      store.data.put("i10", hash(10));
      swr.get(1, new long[] {10});
      now.addAndGet(500 * MS); // stale, servable
      java.util.concurrent.atomic.AtomicBoolean once =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      store.onFetch =
          () -> {
            if (once.getAndSet(false)) {
              throw new StackOverflowError("test");
            }
          };
      store.data.put("i10", hash(20));
      assertThat(swr.get(1, new long[] {10}).items()[0].ts()).isEqualTo("10");
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> metrics.get("ranker.feature.refresh.failures").counter().count() >= 1);
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> swr.get(1, new long[] {10}).items()[0].ts().equals("20"));
      List<ILoggingEvent> lines;
      synchronized (logs) {
        lines = List.copyOf(logs.list);
      }
      assertThat(lines)
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.getLevel()).isEqualTo(Level.ERROR);
                assertThat(e.getThrowableProxy().getClassName())
                    .isEqualTo(StackOverflowError.class.getName());
              });
    } finally {
      swr.close();
      logger.detachAppender(logs);
    }
  }
}
