package io.feedrank.ranker.features;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ranker's view of features: a bounded local cache in front of the store, a circuit breaker
 * around it, and the fallbacks when it fails.
 *
 * <p>An entry fetched less than its fresh TTL ago (users and items have their own: a user's last
 * clicks matter more than an item's) is used as is; older ones are re-read (only those: one round
 * trip for all of them). When the store fails or the breaker is open, entries up to {@code
 * staleTtl} old are used, then default features (an empty hash), and the result says {@link
 * Features#fallbackReason()}. Nothing here throws for a store failure.
 */
public final class CachingFeatureStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CachingFeatureStore.class);

  /** Features for one request. {@code fallbackReason} is null when all came fresh. */
  public record Features(Parsed.User user, Parsed.Item[] items, String fallbackReason) {}

  private record Entry(Object value, long fetchedNanos) {}

  private final FeatureStore store;
  private final Cache<Long, Entry> users;
  private final Cache<Long, Entry> items;
  private final long userFreshNanos;
  private final long itemFreshNanos;
  private final CircuitBreaker breaker;
  private final LongSupplier nanoClock;
  private final Timer latency;
  private final Counter hits;
  private final Counter misses;
  private final Counter failures;

  public CachingFeatureStore(
      FeatureStore store,
      int maxEntries,
      Duration userFreshTtl,
      Duration itemFreshTtl,
      Duration staleTtl,
      CircuitBreakerConfig breakerConfig,
      MeterRegistry metrics,
      LongSupplier nanoClock) {
    this.store = store;
    this.users = cache(maxEntries / 4 + 1, staleTtl);
    this.items = cache(maxEntries, staleTtl);
    this.userFreshNanos = userFreshTtl.toNanos();
    this.itemFreshNanos = itemFreshTtl.toNanos();
    this.breaker = CircuitBreaker.of("redis", breakerConfig);
    this.nanoClock = nanoClock;
    this.latency =
        Timer.builder("ranker.redis.latency")
            .description("one pipelined read of a request's missing features")
            .publishPercentileHistogram()
            .register(metrics);
    this.hits = Counter.builder("ranker.feature.cache").tag("result", "hit").register(metrics);
    this.misses = Counter.builder("ranker.feature.cache").tag("result", "miss").register(metrics);
    this.failures = Counter.builder("ranker.redis.failures").register(metrics);
    metrics.gauge(
        "ranker.redis.breaker.open",
        breaker,
        b -> b.getState() == CircuitBreaker.State.OPEN ? 1 : 0);
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

  private static Cache<Long, Entry> cache(int max, Duration ttl) {
    return Caffeine.newBuilder().maximumSize(max).expireAfterWrite(ttl).build();
  }

  public Features get(long userId, long[] itemIds) {
    long now = nanoClock.getAsLong();
    Entry user = users.getIfPresent(userId);
    boolean needUser = !fresh(user, now, userFreshNanos);
    Parsed.Item[] out = new Parsed.Item[itemIds.length];
    Entry[] cached = new Entry[itemIds.length];
    int[] missing = new int[itemIds.length];
    int m = 0;
    for (int i = 0; i < itemIds.length; i++) {
      cached[i] = items.getIfPresent(itemIds[i]);
      if (fresh(cached[i], now, itemFreshNanos)) {
        out[i] = (Parsed.Item) cached[i].value();
      } else {
        missing[m++] = i;
      }
    }
    hits.increment(itemIds.length - m + (needUser ? 0 : 1));
    misses.increment(m + (needUser ? 1 : 0));
    if (!needUser && m == 0) {
      return new Features((Parsed.User) user.value(), out, malformed(user, out, null));
    }
    long[] ids = new long[m];
    for (int k = 0; k < m; k++) {
      ids[k] = itemIds[missing[k]];
    }
    String reason = null;
    FeatureStore.Fetched fetched = null;
    if (!breaker.tryAcquirePermission()) {
      reason = "redis_circuit_open";
    } else {
      long t0 = System.nanoTime();
      try {
        fetched = store.fetch(needUser ? userId : -1, ids);
        long took = System.nanoTime() - t0;
        breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        latency.record(took, TimeUnit.NANOSECONDS);
      } catch (RuntimeException e) {
        long took = System.nanoTime() - t0;
        breaker.onError(took, TimeUnit.NANOSECONDS, e);
        failures.increment();
        log.debug("ranker: feature store failed: {}", e.toString());
        reason = "redis_unavailable";
      }
    }
    long stamp = nanoClock.getAsLong();
    Parsed.User u;
    if (!needUser) {
      u = (Parsed.User) user.value();
    } else if (fetched != null) {
      u = Parsed.User.of(userId, fetched.user());
      users.put(userId, new Entry(u, stamp));
    } else {
      u = user != null ? (Parsed.User) user.value() : Parsed.User.UNKNOWN;
    }
    for (int k = 0; k < m; k++) {
      int i = missing[k];
      if (fetched != null) {
        out[i] = Parsed.Item.of(itemIds[i], fetched.items()[k]);
        items.put(itemIds[i], new Entry(out[i], stamp));
      } else {
        out[i] = cached[i] != null ? (Parsed.Item) cached[i].value() : Parsed.Item.UNKNOWN;
      }
    }
    return new Features(u, out, malformed(new Entry(u, 0), out, reason));
  }

  /** The reason, or "bad_features" when some hash could not be read (its defaults served). */
  private static String malformed(Entry user, Parsed.Item[] items, String reason) {
    if (reason != null) {
      return reason;
    }
    if (((Parsed.User) user.value()).malformed()) {
      return "bad_features";
    }
    for (Parsed.Item i : items) {
      if (i.malformed()) {
        return "bad_features";
      }
    }
    return null;
  }

  private static boolean fresh(Entry e, long now, long ttlNanos) {
    return e != null && now - e.fetchedNanos() < ttlNanos;
  }

  public CircuitBreaker.State breakerState() {
    return breaker.getState();
  }

  @Override
  public void close() throws Exception {
    store.close();
  }

  @Override
  public String toString() {
    return "CachingFeatureStore[users="
        + users.estimatedSize()
        + ", items="
        + items.estimatedSize()
        + ", breaker="
        + breaker.getState()
        + "]";
  }
}
