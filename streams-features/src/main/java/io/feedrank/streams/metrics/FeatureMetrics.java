package io.feedrank.streams.metrics;

import io.feedrank.streams.validation.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The app's own meters (Kafka Streams' metrics are bound separately). No ids in tags. */
public final class FeatureMetrics {
  private final Counter processed;
  private final Map<ErrorCode, Counter> deadLettered = new EnumMap<>(ErrorCode.class);
  private final Counter redisFailures;
  private final Counter registryUnavailable;
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
    freshness =
        Timer.builder("features.freshness")
            .description("event time to the features being written to Redis")
            .publishPercentileHistogram()
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

  public void freshness(long millis) {
    freshness.record(Math.max(0, millis), TimeUnit.MILLISECONDS);
  }
}
