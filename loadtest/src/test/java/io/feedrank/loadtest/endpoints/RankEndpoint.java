package io.feedrank.loadtest.endpoints;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.feedrank.loadtest.config.LoadConfig;
import io.gatling.javaapi.core.Session;
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

  private static final String FALLBACK = "fallback";
  private static final String FALLBACK_REASON = "fallbackReason";

  /**
   * {@code POST /v1/rank}: 200 with as many ranked items as asked for (or candidates given), its
   * {@code fallback} and {@code fallback_reason} kept for {@link #countFallback}; named {@link
   * #requestName}, with {@link LoadConfig#WARM_UP_PREFIX} in front during the warm-up.
   */
  public static HttpRequestActionBuilder rank(LoadConfig c, boolean warmUp) {
    return http((warmUp ? LoadConfig.WARM_UP_PREFIX : "") + requestName(c))
        .post("/v1/rank")
        .body(StringBody("#{body}"))
        .check(status().is(200))
        .check(jsonPath("$.ranked_items[*]").count().is(Math.min(c.topK(), c.candidates())))
        .check(jsonPath("$.fallback").ofBoolean().saveAs(FALLBACK))
        .check(jsonPath("$.fallback_reason").optional().saveAs(FALLBACK_REASON));
  }

  /**
   * The step after {@link #rank}: counts its request in {@link Fallbacks#OF_RUN}, a fallback when
   * the response said so (a failed request, which has no answer to read, is not one).
   */
  public static Session countFallback(Session s) {
    boolean fallback = s.contains(FALLBACK) && s.getBoolean(FALLBACK);
    String reason = s.contains(FALLBACK_REASON) ? s.getString(FALLBACK_REASON) : "(no reason)";
    Fallbacks.OF_RUN.record(fallback ? reason : null);
    return s;
  }
}
