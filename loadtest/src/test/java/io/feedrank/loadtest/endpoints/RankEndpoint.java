package io.feedrank.loadtest.endpoints;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.feedrank.loadtest.config.LoadConfig;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;

/** The ranker's API as the load tests call it. */
public final class RankEndpoint {
  private RankEndpoint() {}

  /**
   * Every request is marked synthetic: the ranker serves and logs it as any other, and the drift
   * job leaves it out, so a load test does not read as prediction drift and trigger a retrain.
   */
  public static HttpProtocolBuilder protocol(LoadConfig c) {
    HttpProtocolBuilder p =
        http.baseUrl(c.target())
            .contentTypeHeader("application/json")
            .acceptHeader("application/json")
            .header("X-Feedrank-Synthetic", "true")
            .shareConnections();
    return c.apiKey().isEmpty() ? p : p.header("X-API-Key", c.apiKey());
  }

  /** The name the measured requests are reported under (and their assertions select). */
  public static String requestName(LoadConfig c) {
    return "POST /v1/rank (" + c.candidates() + " candidates)";
  }

  /**
   * {@code POST /v1/rank}: 200 with as many ranked items as asked for (or candidates given); named
   * {@link #requestName}, with {@link LoadConfig#WARM_UP_PREFIX} in front during the warm-up.
   */
  public static HttpRequestActionBuilder rank(LoadConfig c, boolean warmUp) {
    return http((warmUp ? LoadConfig.WARM_UP_PREFIX : "") + requestName(c))
        .post("/v1/rank")
        .body(StringBody("#{body}"))
        .check(status().is(200))
        .check(jsonPath("$.ranked_items[*]").count().is(Math.min(c.topK(), c.candidates())));
  }
}
