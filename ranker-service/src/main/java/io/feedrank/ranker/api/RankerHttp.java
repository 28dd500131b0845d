package io.feedrank.ranker.api;

import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;

/**
 * The ranker's HTTP front: routes, authentication, rate limits, body limits and the one mapping
 * from exceptions to statuses. Two implementations answer the same requests the same way: {@link
 * JettyRankerServer} (Javalin on Jetty: a pool of request threads) and {@link VertxRankerServer}
 * (Vert.x: a request is read, ranked and answered on the event loop that owns its connection).
 */
public interface RankerHttp extends AutoCloseable {

  /** What the server needs from the rest of the service. */
  interface Backend {
    RankResult rank(RankRequest request);

    /** Readiness checks by name (model_loaded, redis_reachable, ...). */
    Map<String, Boolean> readiness();

    /** Body of {@code GET /health}. */
    Map<String, Object> health();

    /** Body of {@code GET /v1/config}. */
    Map<String, Object> config();

    /** Prometheus text exposition. */
    String scrape();
  }

  /**
   * Settings of the HTTP layer. {@code maxThreads} sizes Jetty's request thread pool; {@code
   * eventLoops} is the number of Vert.x event loops; each server ignores the other's.
   */
  record Settings(
      String host,
      int port,
      int maxThreads,
      int eventLoops,
      int maxBodyBytes,
      ApiKeys keys,
      TokenBuckets limits) {}

  /** The servers by their {@code http.server} name. */
  enum Kind {
    JETTY,
    VERTX;

    public static Kind of(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("http.server must be jetty or vertx, got " + name);
      }
    }
  }

  static RankerHttp create(Kind kind, Backend backend, Settings settings, MeterRegistry metrics) {
    return switch (kind) {
      case JETTY -> new JettyRankerServer(backend, settings, metrics);
      case VERTX -> new VertxRankerServer(backend, settings, metrics);
    };
  }

  RankerHttp start();

  int port();

  /** Requests being ranked right now. */
  int inFlight();

  /**
   * Graceful stop: readiness turns DOWN and new rank requests get {@code 503}, requests in flight
   * finish (waiting at most {@code graceMillis}), then the server stops.
   */
  void stop(long graceMillis);

  @Override
  default void close() {
    stop(0);
  }
}
