package io.feedrank.drift.metrics;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * {@code metrics.reporter.<name>.factory.class:
 * io.feedrank.drift.metrics.LoopbackPrometheusReporterFactory} with {@code .host} (default
 * 127.0.0.1) and {@code .port} (default 9249).
 */
public final class LoopbackPrometheusReporterFactory implements MetricReporterFactory {
  @Override
  public MetricReporter createMetricReporter(Properties properties) {
    return new LoopbackPrometheusReporter();
  }
}
