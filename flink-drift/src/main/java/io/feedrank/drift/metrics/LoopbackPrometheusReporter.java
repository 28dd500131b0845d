package io.feedrank.drift.metrics;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.CharacterFilter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.LogicalScopeProvider;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;

/**
 * Flink metrics in the Prometheus text format on a configurable host (default 127.0.0.1) — for the
 * drift job in a local MiniCluster ({@code ./feedrank drift}, the demo, {@code up}), where Flink's
 * own PrometheusReporter would listen on every interface. Names and labels follow that reporter's
 * ({@code flink_} + the logical scope joined by {@code _} + the metric name; the scope variables as
 * labels), so dashboards and alert rules read both alike. Counters, gauges with a numeric value and
 * meters (their rate) are exported; histograms are not.
 */
public final class LoopbackPrometheusReporter implements MetricReporter {
  private static final CharacterFilter FILTER = LoopbackPrometheusReporter::sanitize;

  private record Entry(String name, Map<String, String> labels, Metric metric) {}

  private final Map<Metric, Entry> metrics = new ConcurrentHashMap<>();
  private HttpServer server;

  @Override
  public void open(MetricConfig config) {
    String host = config.getString("host", "127.0.0.1");
    int port = config.getInteger("port", 9249);
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "flink metrics: cannot listen on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "; metrics.port, --metrics-port: another port, or 0 for none)",
          e);
    }
    server.createContext(
        "/",
        exchange -> {
          byte[] body = render().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Override
  public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
    String scope = LogicalScopeProvider.castFrom(group).getLogicalScope(FILTER, '_');
    Map<String, String> labels = new TreeMap<>();
    group
        .getAllVariables()
        .forEach((k, v) -> labels.put(sanitize(k.replaceAll("[<>]", "")), v == null ? "" : v));
    metrics.put(metric, new Entry("flink_" + scope + "_" + sanitize(metricName), labels, metric));
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
    metrics.remove(metric);
  }

  String render() {
    StringBuilder b = new StringBuilder();
    for (Entry e : metrics.values()) {
      Double v = value(e.metric());
      if (v == null) {
        continue;
      }
      b.append(e.name());
      if (!e.labels().isEmpty()) {
        b.append('{');
        boolean first = true;
        for (Map.Entry<String, String> l : e.labels().entrySet()) {
          b.append(first ? "" : ",")
              .append(l.getKey())
              .append("=\"")
              .append(escape(l.getValue()))
              .append('"');
          first = false;
        }
        b.append('}');
      }
      b.append(' ').append(format(v)).append('\n');
    }
    return b.toString();
  }

  private static Double value(Metric m) {
    if (m instanceof Counter c) {
      return (double) c.getCount();
    }
    if (m instanceof Meter meter) {
      return meter.getRate();
    }
    if (m instanceof Gauge<?> g) {
      Object v;
      try {
        v = g.getValue();
      } catch (RuntimeException e) {
        return null;
      }
      if (v instanceof Number n) {
        return n.doubleValue();
      }
      if (v instanceof Boolean bool) {
        return bool ? 1.0 : 0.0;
      }
    }
    return null;
  }

  private static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }

  static String sanitize(String s) {
    return s.replaceAll("[^a-zA-Z0-9_:]", "_");
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
