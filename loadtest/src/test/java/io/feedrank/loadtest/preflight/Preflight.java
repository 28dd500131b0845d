package io.feedrank.loadtest.preflight;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.loadtest.config.LoadConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a load test checks of its target before any load, in seconds: a target that is down, not a
 * ranker, refuses the key or is not ready was otherwise loaded for the whole run (an hour for a
 * soak), which then failed as a missed SLO does. Three checks, each a failure with what to do:
 *
 * <ol>
 *   <li>{@code GET /v1/config} with the run's key answers 200: not a refused connection or a
 *       timeout ({@value #TIMEOUT_SECONDS} s), a 401 or 403 (a bad or missing key), a 404 (no
 *       ranker at that base URL);
 *   <li>the ranker is ready: {@code GET /health/ready} answers 200, on the management port that
 *       {@code /v1/config} reports when the ranker has one (its {@code management_port}; -1: the
 *       service's port). Where that port cannot be reached (a Kubernetes Service exposes the
 *       service's port only) or is a random one, a production model in {@code /v1/config} is
 *       required instead;
 *   <li>the run's peak arrival rate is within the ranker's {@code rate_limit_per_second} times
 *       {@code ranker.replicas}: past it, every request beyond the burst is answered 429.
 * </ol>
 */
public final class Preflight {
  private static final Logger LOG = LoggerFactory.getLogger(Preflight.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How long a connection and then an answer may take, each. */
  static final int TIMEOUT_SECONDS = 5;

  /** A check that failed, with what to do about it. */
  public static final class Failed extends Exception {
    Failed(String message) {
      super(message);
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
          .build();
  private final LoadConfig config;

  private Preflight(LoadConfig config) {
    this.config = config;
  }

  /**
   * Checks {@code c}'s target for a run whose arrivals peak at {@code peakRate} requests/s ({@code
   * peak} says which setting that is, for the message).
   *
   * @throws Failed naming what failed and what to do
   */
  public static void check(LoadConfig c, double peakRate, String peak)
      throws Failed, InterruptedException {
    Preflight p = new Preflight(c);
    JsonNode rankerConfig = p.rankerConfig();
    p.ready(rankerConfig);
    p.withinRateLimit(rankerConfig, peakRate, peak);
  }

  private JsonNode rankerConfig() throws Failed, InterruptedException {
    HttpResponse<String> r = get(URI.create(config.target() + "/v1/config"), true);
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      throw new Failed(
          "GET "
              + r.uri()
              + " answered "
              + r.statusCode()
              + ": bad or missing FEEDRANK_API_KEY ("
              + (config.apiKey().isEmpty()
                  ? "none given: set FEEDRANK_API_KEY or give --api-key-file"
                  : "the key given is not one of the ranker's")
              + ")");
    }
    if (r.statusCode() != 200) {
      throw new Failed(
          "GET "
              + r.uri()
              + " answered "
              + r.statusCode()
              + (r.statusCode() == 404 ? " (is the target a feedrank ranker's base URL?)" : "")
              + ": "
              + abbreviated(r.body()));
    }
    try {
      JsonNode c = JSON.readTree(r.body());
      if (c.path("rate_limit_per_second").isNumber()) {
        return c;
      }
    } catch (IOException e) {
      // said below
    }
    throw new Failed(
        "GET "
            + r.uri()
            + " is not a feedrank ranker's configuration (no rate_limit_per_second): "
            + abbreviated(r.body()));
  }

  private void ready(JsonNode rankerConfig) throws Failed, InterruptedException {
    int managementPort = rankerConfig.path("management_port").asInt(-1);
    if (managementPort < 0) { // the ops endpoints on the service's port
      requireReady(get(URI.create(config.target() + "/health/ready"), false));
      return;
    }
    if (managementPort > 0) {
      // URI.getHost keeps an IPv6 address's brackets
      URI target = URI.create(config.target());
      URI ready =
          URI.create(
              target.getScheme()
                  + "://"
                  + target.getHost()
                  + ":"
                  + managementPort
                  + "/health/ready");
      HttpResponse<String> r = null;
      try {
        r = get(ready, false);
      } catch (Failed unreachable) {
        LOG.warn(
            "loadtest: pre-flight: no readiness from the management port ({}): checking only that"
                + " the ranker serves a production model",
            unreachable.getMessage());
      }
      if (r != null) {
        requireReady(r);
        return;
      }
    } else {
      LOG.warn(
          "loadtest: pre-flight: the ranker's management port is a random one, which /v1/config"
              + " does not say: checking only that it serves a production model");
    }
    JsonNode model = rankerConfig.path("production_model");
    if (!model.isTextual()) {
      throw new Failed(
          "the ranker at "
              + config.target()
              + " serves no production model (production_model in /v1/config): every request"
              + " would be ranked by popularity, a no_model fallback");
    }
    LOG.info("loadtest: pre-flight: {} serves {}", config.target(), model.asText());
  }

  private static void requireReady(HttpResponse<String> r) throws Failed {
    if (r.statusCode() != 200) {
      throw new Failed(
          "the ranker is not ready: GET "
              + r.uri()
              + " answered "
              + r.statusCode()
              + " "
              + abbreviated(r.body())
              + "; a load test measures a ready ranker (a production model loaded, Redis"
              + " answered, the registry read, the warm-up done)");
    }
    LOG.info("loadtest: pre-flight: {} answered 200", r.uri());
  }

  private void withinRateLimit(JsonNode rankerConfig, double peakRate, String peak) throws Failed {
    double limit = rankerConfig.path("rate_limit_per_second").asDouble();
    double total = limit * config.rankerReplicas();
    if (peakRate > total) {
      throw new Failed(
          String.format(
              Locale.ROOT,
              "the run's peak of %s requests/s (%s) is over the ranker's rate limit of %s"
                  + " requests/s%s (rate_limit_per_second in /v1/config): the requests past it"
                  + " would be answered 429. Lower the load, or raise the ranker's limit (./feedrank"
                  + " up --ranker-config rate.limit.per.second=%s --ranker-config"
                  + " rate.limit.burst=%s; the ranker's rate.limit.per.second key), or give"
                  + " --ranker-replicas N when the target balances over N rankers",
              number(peakRate),
              peak,
              number(limit),
              config.rankerReplicas() == 1
                  ? ""
                  : " × " + config.rankerReplicas() + " replicas = " + number(total),
              number(Math.ceil(peakRate / config.rankerReplicas())),
              number(2 * Math.ceil(peakRate / config.rankerReplicas()))));
    }
    LOG.info(
        "loadtest: pre-flight: a peak of {} requests/s ({}) within the rate limit of {}/s{}",
        number(peakRate),
        peak,
        number(total),
        config.rankerReplicas() == 1
            ? ""
            : " (" + number(limit) + "/s × " + config.rankerReplicas() + " replicas)");
  }

  private HttpResponse<String> get(URI uri, boolean withKey) throws Failed, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(TIMEOUT_SECONDS))
            .header("Accept", "application/json")
            .GET();
    if (withKey && !config.apiKey().isEmpty()) {
      b.header("X-API-Key", config.apiKey());
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new Failed("GET " + uri + " failed: " + e + " (is a ranker running there?)");
    }
  }

  private static String number(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static String abbreviated(String body) {
    String b = body.strip();
    return b.length() <= 300 ? b : b.substring(0, 300) + "...";
  }
}
