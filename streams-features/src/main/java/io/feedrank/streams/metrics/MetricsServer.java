package io.feedrank.streams.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** {@code GET /metrics} in the Prometheus text format, on a small JDK HTTP server. */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  public MetricsServer(String host, int port, PrometheusMeterRegistry registry) throws IOException {
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      // one line a user can act on, not the JDK's bare "Address already in use"
      throw new IOException(
          "features metrics: cannot listen on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "; metrics.port, --metrics-port: another port, or 0 for none)",
          e);
    }
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
