package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestMetricsTest {

  /**
   * Refusals are counted but not timed: a thousand 429s of 20 µs beside ten rankings of 40 ms would
   * otherwise put the latency histogram's p99 at 20 µs, under any alert's threshold.
   */
  @Test
  void refusalsAreCountedButLeftOutOfTheLatencyHistogram() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    HttpCommon.RequestMetrics requests = new HttpCommon.RequestMetrics(metrics);
    for (int i = 0; i < 10; i++) {
      requests.record("/v1/rank", 200, TimeUnit.MILLISECONDS.toNanos(40));
    }
    for (int status : new int[] {400, 401, 429}) {
      for (int i = 0; i < 1_000; i++) {
        requests.record("/v1/rank", status, TimeUnit.MICROSECONDS.toNanos(20));
      }
    }
    requests.record("/v1/rank", 500, TimeUnit.MILLISECONDS.toNanos(3));
    requests.record("/v1/rank", 503, TimeUnit.MILLISECONDS.toNanos(1));

    var latency = metrics.get("ranker.request.latency").tag("endpoint", "/v1/rank").timer();
    assertThat(latency.count()).isEqualTo(12); // the 200s and the server's own errors
    assertThat(latency.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(404.0);
    for (int status : new int[] {400, 401, 429}) {
      assertThat(
              metrics
                  .get("ranker.requests")
                  .tag("endpoint", "/v1/rank")
                  .tag("status", Integer.toString(status))
                  .counter()
                  .count())
          .isEqualTo(1_000);
    }
  }
}
