package io.feedrank.ranker.api;

import io.feedrank.ranker.RankService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The {@code ranker.request.latency} timer of one endpoint, as the HTTP front registers it: a
 * histogram with Micrometer's percentile buckets from {@link RankService#FINEST_BUCKET}, and for
 * the rank endpoints {@link #RANK_BOUNDS} besides. Micrometer's buckets are a third apart (0.262 to
 * 0.350 ms, 4.19 to 5.59 ms) right where the ranker's latency goals lie, a p50 of 1.3 times the
 * bare model call (0.28 to 0.32 ms at 100 candidates) and a p99 of 5 ms, and a quantile is
 * interpolated linearly inside its bucket ({@code histogram_quantile}, {@code bench ranker}): 1,000
 * requests of 0.27 ms and 1,000 of 0.345 ms both read as a p50 of 0.306 ms.
 */
public final class RequestLatency {
  /**
   * Every 10 µs from 0.15 to 0.6 ms and every 0.1 ms from 4 to 6 ms: 67 more buckets on each rank
   * endpoint's series (/v1/rank, /predict, one bucket set for both so that dashboards can sum
   * them), some 9,800 characters more in {@code /metrics}. The ops endpoints keep the default set.
   */
  static final Duration[] RANK_BOUNDS =
      Stream.concat(
              IntStream.rangeClosed(15, 60).mapToObj(i -> Duration.ofNanos(i * 10_000L)),
              IntStream.rangeClosed(40, 60).mapToObj(i -> Duration.ofNanos(i * 100_000L)))
          .toArray(Duration[]::new);

  private RequestLatency() {}

  /** Registers (or finds) the timer of {@code endpoint} in {@code metrics}. */
  public static Timer register(MeterRegistry metrics, String endpoint) {
    Timer.Builder b =
        Timer.builder("ranker.request.latency")
            .tag("endpoint", endpoint)
            .publishPercentileHistogram()
            .minimumExpectedValue(RankService.FINEST_BUCKET);
    if (HttpCommon.RequestMetrics.RANK_ENDPOINTS.contains(endpoint)) {
      b.serviceLevelObjectives(RANK_BOUNDS);
    }
    return b.register(metrics);
  }
}
