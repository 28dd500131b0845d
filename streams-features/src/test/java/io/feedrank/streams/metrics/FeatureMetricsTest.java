package io.feedrank.streams.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The freshness histogram as Prometheus scrapes it. */
class FeatureMetricsTest {
  static final Pattern BUCKET =
      Pattern.compile("features_freshness_seconds_bucket\\{le=\"([^\"]+)\"} (\\S+)");

  /** Cumulative counts by upper bound, +Inf left out. */
  static TreeMap<Double, Double> buckets(String scrape) {
    TreeMap<Double, Double> out = new TreeMap<>();
    Matcher m = BUCKET.matcher(scrape);
    while (m.find()) {
      if (!m.group(1).equals("+Inf")) {
        out.put(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)));
      }
    }
    return out;
  }

  @Test
  void aTwoHourFreshnessLandsInAFiniteBucketAboveThirtySeconds() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    FeatureMetrics metrics = new FeatureMetrics(registry);
    metrics.freshness(2 * 3_600_000L); // 7,200 s

    TreeMap<Double, Double> buckets = buckets(registry.scrape());
    // a finite bucket holds it (with the largest at 30 s only +Inf would, and histogram_quantile
    // would read 30 s), and none below 2 h
    assertThat(buckets.lastEntry().getValue()).as("the largest finite bucket").isEqualTo(1.0);
    assertThat(buckets.headMap(7_200.0).values()).allMatch(c -> c == 0.0);
    assertThat(buckets.lastKey()).isGreaterThanOrEqualTo(6 * 3_600.0);
  }

  @Test
  void theFreshnessGoalOfHalfASecondIsABucketBound() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    FeatureMetrics metrics = new FeatureMetrics(registry);
    metrics.freshness(499);
    metrics.freshness(501);

    TreeMap<Double, Double> buckets = buckets(registry.scrape());
    assertThat(buckets).containsEntry(0.5, 1.0);
    assertThat(buckets.higherEntry(0.5).getValue()).isEqualTo(2.0);
  }
}
