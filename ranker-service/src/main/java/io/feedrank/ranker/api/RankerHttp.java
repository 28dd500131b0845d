package io.feedrank.ranker.api;

import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;

/**
 * The ranker's HTTP front: routes, authentication, rate limits, body limits and the one mapping
 * from exceptions to statuses. {@link VertxRankerServer} implements it; the interface is what the
 * rest of the service and the tests see of it.
 */
public interface RankerHttp extends AutoCloseable {

  /** What the server needs from the rest of the service. */
  interface Backend {
    RankResult rank(RankRequest request);

    /**
     * Readiness checks by name (model_loaded, redis_answered, ...): {@code /health/ready} is UP
     * when all of them pass.
     */
    Map<String, Boolean> readiness();

    /**
     * Dependencies the service degrades around, by name, and whether each answers now (e.g.
     * redis_reachable): reported by {@code /health/ready} but not deciding it. A ranker serving
     * stale or default features while Redis is away is still ready: every replica shares that
     * Redis, and taking them all out of rotation would turn degraded rankings into none.
     */
    default Map<String, Boolean> dependencies() {
      return Map.of();
    }

    /** Body of {@code GET /health}. */
    Map<String, Object> health();

    /** Body of {@code GET /v1/config}. */
    Map<String, Object> config();

    /** Prometheus text exposition. */
    String scrape();
  }

  /**
   * Settings of the HTTP layer; {@code eventLoops} is the number of Vert.x event loops; {@code
   * warmup} the route of the warm-up's requests, or null; {@code managementPort} the port of the
   * ops endpoints ({@code /health*}, {@code /metrics}; 0: a random one), or {@link #SAME_PORT} to
   * serve them on {@code port}.
   */
  record Settings(
      String host,
      int port,
      int eventLoops,
      int maxBodyBytes,
      ApiKeys keys,
      TokenBuckets limits,
      WarmupRoute warmup,
      long maxAheadMillis,
      int managementPort) {
    /** {@code managementPort}: the ops endpoints on the service's port. */
    public static final int SAME_PORT = -1;

    public Settings(
        String host,
        int port,
        int eventLoops,
        int maxBodyBytes,
        ApiKeys keys,
        TokenBuckets limits) {
      this(
          host,
          port,
          eventLoops,
          maxBodyBytes,
          keys,
          limits,
          null,
          RequestParser.DEFAULT_MAX_AHEAD_MILLIS,
          SAME_PORT);
    }
  }

  /**
   * Where the ranker's own warm-up requests go: a rank request whose {@value #WARMUP_HEADER} header
   * the route {@link #accepts} (a random token made at start, never shown, refused once the warm-up
   * has ended) is ranked by {@link #rank} instead of the service, without API key or rate limit,
   * and counted in meters of their own, so that neither dashboards nor autoscalers see it.
   */
  interface WarmupRoute {
    boolean accepts(String header);

    RankResult rank(RankRequest request);

    /** Where the warm-up's requests are counted: a registry of the service's kind, not its own. */
    MeterRegistry meters();
  }

  /** The header of the warm-up's requests. */
  String WARMUP_HEADER = "X-Feedrank-Warmup";

  RankerHttp start();

  int port();

  /** The port of the ops endpoints: {@link #port} unless they have their own. */
  int managementPort();

  /** Requests being ranked right now. */
  int inFlight();

  /**
   * Graceful stop: readiness turns DOWN at once while requests are still served for {@code
   * unreadyMillis}, so that load balancers watching readiness (a Kubernetes Service's endpoints)
   * stop sending requests before they would be refused; every answer on the service's port then
   * says {@code Connection: close} and its connection is closed, so that clients holding pooled
   * connections open new ones elsewhere. Then new rank requests get {@code 503} with {@code
   * Retry-After: 1}, requests in flight finish (waiting at most {@code graceMillis}), and the
   * server stops listening, finishes what it is still answering within what is left of {@code
   * graceMillis}, closes idle connections and stops.
   */
  void stop(long unreadyMillis, long graceMillis);

  /** {@link #stop(long, long)} without the period of serving while unready. */
  default void stop(long graceMillis) {
    stop(0, graceMillis);
  }

  @Override
  default void close() {
    stop(0);
  }
}
