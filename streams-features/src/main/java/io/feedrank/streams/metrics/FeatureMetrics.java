package io.feedrank.streams.metrics;

import io.feedrank.features.examples.RequestSnapshots;
import io.feedrank.streams.validation.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The app's own meters (Kafka Streams' metrics are bound separately). No ids in tags. */
public final class FeatureMetrics {
  /** The freshness histogram's largest finite bucket is at least this. */
  static final Duration FRESHNESS_MAX = Duration.ofHours(6);

  /** Event to Redis within this at p99 (DESIGN goal; the alert FeaturesStale). */
  static final Duration FRESHNESS_GOAL = Duration.ofMillis(500);

  private final Counter processed;
  private final Map<ErrorCode, Counter> deadLettered = new EnumMap<>(ErrorCode.class);
  private final Counter redisFailures;
  private final Counter registryUnavailable;
  private final Counter categoryTooLong;
  private final Counter snapshotMissed;
  private final Counter restampedNone;
  private final Counter restampedAhead;
  private final Counter expiredUser;
  private final Counter expiredItem;
  private final Timer freshness;

  public FeatureMetrics(MeterRegistry registry) {
    processed =
        Counter.builder("features.events.processed")
            .description("valid interactions applied to features")
            .register(registry);
    for (ErrorCode c : ErrorCode.values()) {
      deadLettered.put(
          c,
          Counter.builder("features.events.dlq")
              .tag("code", c.name())
              .description("interactions sent to the DLQ")
              .register(registry));
    }
    redisFailures =
        Counter.builder("features.redis.write.failures")
            .description("batches that failed and were kept for retry")
            .register(registry);
    registryUnavailable =
        Counter.builder("features.registry.unavailable")
            .description(
                "interactions whose writer schema the registry could not give; each stops its"
                    + " stream thread, which is replaced and reads the record again")
            .register(registry);
    categoryTooLong =
        Counter.builder("features.items.category.too.long")
            .description(
                "item records whose category was longer than items.category.max.bytes, kept with"
                    + " no category; counted each time read, so again at every start as the items"
                    + " table is rebuilt")
            .register(registry);
    expiredUser = expiredEntity(registry, "user");
    expiredItem = expiredEntity(registry, "item");
    snapshotMissed =
        Counter.builder("features.examples.snapshot.missed")
            .description(
                "interactions of a ranking request seen before whose snapshot of the user's state"
                    + " was no longer kept (past the user's "
                    + RequestSnapshots.REQUESTS
                    + " later requests, or the snapshots' bytes): their examples got the user's"
                    + " state as it was")
            .register(registry);
    restampedNone = restamped(registry, "none");
    restampedAhead = restamped(registry, "ahead_of_clock");
    // Micrometer's percentile buckets stop at 30 s by default, and a histogram cannot say more than
    // its last finite bucket: an app hours behind read as 30 s. Up to 6 hours, with 500 ms (the
    // freshness goal, FeaturesStale's threshold) a bucket boundary of its own
    freshness =
        Timer.builder("features.freshness")
            .description("event time to the features being written to Redis")
            .publishPercentileHistogram()
            .maximumExpectedValue(FRESHNESS_MAX)
            .serviceLevelObjectives(FRESHNESS_GOAL)
            .register(registry);
  }

  public void processed() {
    processed.increment();
  }

  public void deadLettered(ErrorCode code) {
    deadLettered.get(code).increment();
  }

  public void redisFailure() {
    redisFailures.increment();
  }

  public void registryUnavailable() {
    registryUnavailable.increment();
  }

  public void categoryTooLong() {
    categoryTooLong.increment();
  }

  private static Counter expiredEntity(MeterRegistry registry, String side) {
    return Counter.builder("features.examples.expired.entity")
        .tag("side", side)
        .description(
            "training examples whose user's or item's Redis hash had expired by the event (more"
                + " than redis.ttl.seconds after its latest event): built with that side's default"
                + " features, as the ranker served them")
        .register(registry);
  }

  /**
   * A training example built with the default features of its user's or item's side, their hash
   * expired by the event.
   */
  public void expiredEntity(boolean user) {
    (user ? expiredUser : expiredItem).increment();
  }

  /** An interaction of a request seen before whose snapshot was no longer kept. */
  public void snapshotMissed() {
    snapshotMissed.increment();
  }

  private static Counter restamped(MeterRegistry registry, String timestamp) {
    return Counter.builder("features.events.restamped")
        .tag("timestamp", timestamp)
        .description(
            "interaction records processed, and their outputs stamped, at another timestamp than"
                + " their own: none (negative), or further ahead of the clock than"
                + " output.max.ahead.of.clock.ms")
        .register(registry);
  }

  /**
   * An interaction record processed at another timestamp than its own.
   *
   * @param none whether it had none (a negative one), else it was too far ahead of the clock
   */
  public void restamped(boolean none) {
    (none ? restampedNone : restampedAhead).increment();
  }

  public void freshness(long millis) {
    freshness.record(Math.max(0, millis), TimeUnit.MILLISECONDS);
  }
}
