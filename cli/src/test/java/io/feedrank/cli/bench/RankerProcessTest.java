package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Reading the ranker's server-side figures from its Prometheus exposition. */
class RankerProcessTest {
  static final String EXPOSITION =
      String.join(
          "\n",
          "# HELP ranker_request_latency_seconds ",
          "# TYPE ranker_request_latency_seconds histogram",
          "ranker_request_latency_seconds_bucket{endpoint=\"/v1/rank\",le=\"0.001\"} 3.0",
          "ranker_request_latency_seconds_count{endpoint=\"/v1/rank\",status=\"200\"} 40.0",
          "ranker_request_latency_seconds_sum{endpoint=\"/v1/rank\",status=\"200\"} 0.25",
          "ranker_request_latency_seconds_count{endpoint=\"/v1/rank\",status=\"400\"} 2.0",
          "ranker_request_latency_seconds_sum{endpoint=\"/v1/rank\",status=\"400\"} 0.002",
          "ranker_request_latency_seconds_count{endpoint=\"/health\",status=\"200\"} 7.0",
          "ranker_request_latency_seconds_sum{endpoint=\"/health\",status=\"200\"} 0.7",
          "ranker_feature_cache_total{result=\"hit\"} 1500.0",
          "ranker_feature_cache_total{result=\"miss\"} 12.0",
          "ranker_feature_cache_total{result=\"stale_refresh\"} 300.0",
          "ranker_fallbacks_total{cause=\"no_model\"} 5.0",
          "ranker_fallbacks_total{cause=\"model_error\"} 1.0",
          "ranker_model_swaps_total 3.0",
          "");

  @Test
  void sumsTheSeriesOfAMetricWhoseLabelsMatch() {
    // /v1/rank only: 40 + 2 requests taking 0.25 + 0.002 s; /health left out
    assertThat(
            RankerProcess.sum(
                EXPOSITION, "ranker_request_latency_seconds_count", "endpoint=\"/v1/rank\""))
        .isEqualTo(42.0);
    assertThat(
            RankerProcess.sum(
                EXPOSITION, "ranker_request_latency_seconds_sum", "endpoint=\"/v1/rank\""))
        .isEqualTo(0.252);
    assertThat(RankerProcess.sum(EXPOSITION, "ranker_feature_cache_total", "result=\"hit\""))
        .isEqualTo(1500.0);
    assertThat(RankerProcess.sum(EXPOSITION, "ranker_fallbacks_total", "")).isEqualTo(6.0);
    // a metric without labels, and one whose name is a prefix of others, are matched whole
    assertThat(RankerProcess.sum(EXPOSITION, "ranker_model_swaps_total", "")).isEqualTo(3.0);
    assertThat(RankerProcess.sum(EXPOSITION, "ranker_request_latency_seconds", "")).isZero();
  }
}
