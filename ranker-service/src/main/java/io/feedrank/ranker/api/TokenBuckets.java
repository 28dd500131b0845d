package io.feedrank.ranker.api;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client: {@code ratePerSecond} tokens refill continuously up to {@code burst};
 * a request takes one or is refused. Lock-free per client apart from a short synchronized refill.
 */
public final class TokenBuckets {
  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  private final class Bucket {
    private double tokens = burst;
    private long last = nanoClock.getAsLong();

    synchronized boolean take() {
      long now = nanoClock.getAsLong();
      tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    }

    synchronized double secondsUntilToken() {
      return tokens >= 1 ? 0 : (1 - tokens) / ratePerNano / 1e9;
    }
  }

  public TokenBuckets(double ratePerSecond, int burst, LongSupplier nanoClock) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.nanoClock = nanoClock;
  }

  /** Takes a token for the client; false when its bucket is empty. */
  public boolean tryTake(String client) {
    return buckets.computeIfAbsent(client, c -> new Bucket()).take();
  }

  /** Seconds until the client's next token (for {@code Retry-After}), at least 1. */
  public long retryAfterSeconds(String client) {
    Bucket b = buckets.get(client);
    return b == null ? 1 : Math.max(1, (long) Math.ceil(b.secondsUntilToken()));
  }
}
