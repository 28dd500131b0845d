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
  /** Adds this reporter, as {@code prom}, on {@code 127.0.0.1:port} to a Flink configuration. */
  public static void configure(org.apache.flink.configuration.Configuration flink, int port) {
    flink.setString(
        "metrics.reporter.prom.factory.class", LoopbackPrometheusReporterFactory.class.getName());
    flink.setString("metrics.reporter.prom.host", "127.0.0.1");
    flink.setString("metrics.reporter.prom.port", Integer.toString(port));
  }

  @Override
  public MetricReporter createMetricReporter(Properties properties) {
    return new LoopbackPrometheusReporter();
  }
}
