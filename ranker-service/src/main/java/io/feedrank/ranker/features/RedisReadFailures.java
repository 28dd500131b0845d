package io.feedrank.ranker.features;

import io.feedrank.ranker.logging.LineGate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says why the cache's Redis reads fail, which neither the breaker's rates nor the fallback
 * counters do: a rotated password or ACL (WRONGPASS, NOPERM), a replica still LOADING, a host name
 * that no longer resolves and a timeout all read as {@code redis_unavailable}. The first failed
 * read is said at once, then at most one line a minute while reads keep failing, with how many
 * failed since and the last one; below the breaker's threshold too, where nothing else is said. The
 * breaker's opening line names the last one as well ({@link #last}).
 */
final class RedisReadFailures {
  private static final Logger log = LoggerFactory.getLogger(RedisReadFailures.class);

  /** A failure is said in at most this many characters (a cause's message can be long). */
  static final int MAX_CHARS = 300;

  private final LongSupplier nanoClock;
  private final AtomicLong since = new AtomicLong();
  private final LineGate lines = new LineGate(Duration.ofMinutes(1));
  private volatile String last;

  RedisReadFailures(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** Counts a failed read; says so when a line is due. */
  void failed(RuntimeException e) {
    String why = describe(e);
    last = why;
    since.incrementAndGet();
    if (lines.due(nanoClock.getAsLong(), false)) {
      log.warn(
          "ranker: {} Redis read(s) of features failed since the last such line"
              + " (ranker.redis.failures; requests get cached, stale or default features"
              + " meanwhile); the last: {} (the next line in a minute at the earliest)",
          since.getAndSet(0),
          why);
    }
  }

  /** The last failure, described; null before the first. */
  String last() {
    return last;
  }

  /**
   * The exception and what lies under it when its message does not already say it, at most {@link
   * #MAX_CHARS} characters: its root cause (Jedis's "Failed to create socket." over an unknown
   * host), else its first suppressed exception's (Jedis's "Failed to connect to host:port." carries
   * each address's failure, refused or timed out, as suppressed, not as its cause). Jedis's
   * messages name the host and port at most, never the password of {@code redis.uri}.
   */
  static String describe(Throwable e) {
    Throwable under = root(e);
    if (under == e && e.getSuppressed().length > 0) {
      under = root(e.getSuppressed()[0]);
    }
    String s = e.toString();
    if (under != e && !s.contains(under.toString())) {
      s += " (cause: " + under + ")";
    }
    return s.length() <= MAX_CHARS ? s : s.substring(0, MAX_CHARS - 1) + "…";
  }

  private static Throwable root(Throwable e) {
    Throwable root = e;
    for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 10; depth++) {
      root = root.getCause();
    }
    return root;
  }
}
