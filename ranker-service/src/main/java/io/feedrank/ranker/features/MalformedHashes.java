package io.feedrank.ranker.features;

import io.feedrank.ranker.logging.LineGate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says the feature hashes the ranker could not read: the first at once, then at most one line a
 * minute with how many since and the last one's entity and reason. They are served default features
 * and counted per request ({@code ranker.fallbacks{cause="bad_features"}}), but that says neither
 * which hash nor why: a hash of another feature schema version (a streams-features of another
 * release writing to this Redis) reads as one of them, for every entity it wrote. A parsed state
 * whose features could not be computed after all (the parse missed what is wrong with it) is served
 * defaults too, and said here.
 */
public final class MalformedHashes {
  private static final Logger log = LoggerFactory.getLogger(MalformedHashes.class);
  static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** The one {@link Parsed} reports to. */
  public static final MalformedHashes SHARED = new MalformedHashes(System::nanoTime);

  private final LongSupplier nanoClock;
  private final AtomicLong since = new AtomicLong();
  private final LineGate lines = new LineGate(Duration.ofNanos(EVERY_NANOS));

  MalformedHashes(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** As new: the next hash is said at once (for tests of {@link #SHARED}). */
  void reset() {
    since.set(0);
    lines.reset();
  }

  /** Counts the hash of {@code entity} {@code id} that could not be read; says so when due. */
  public void cannotRead(String entity, long id, RuntimeException why) {
    since.incrementAndGet();
    if (lines.due(nanoClock.getAsLong(), false)) {
      log.warn(
          "ranker: {} feature hash(es) could not be read since the last such line and were served"
              + " default features (ranker.fallbacks{cause=\"bad_features\"}); the last, {} {}: {}"
              + " (the next line in a minute at the earliest)",
          since.getAndSet(0),
          entity,
          id,
          why.getMessage());
    }
  }
}
