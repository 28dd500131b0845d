package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The load generator against a local HTTP server that counts what it answers. */
class LoadGeneratorTest {
  static final ObjectMapper JSON = new ObjectMapper();

  HttpServer server;

  /** Serves {@code /v1/rank} on a random loopback port; returns the rank URL. */
  String serve(HttpHandler rank) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/rank", rank);
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/rank";
  }

  @AfterEach
  void stop() {
    System.clearProperty(LoadGenerator.METRICS_URL_PROPERTY);
    if (server != null) {
      server.stop(0);
    }
  }

  /**
   * Answers with no body ({@code Content-length: 0}): the answer leaves in one write, not held back
   * by Nagle's algorithm until the client's delayed ACK, some 40 ms, as a separate body would be.
   */
  static void answer(HttpExchange exchange, int status) throws IOException {
    exchange.getRequestBody().readAllBytes();
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  /** Answers every rank request 200 at once, counting them in {@code received}. */
  String serveCounting(AtomicInteger received) throws IOException {
    return serve(
        exchange -> {
          received.incrementAndGet();
          answer(exchange, 200);
        });
  }

  @Test
  void theOpenScheduleIsSentOnceEachAndMeasuredFromTheEndOfTheWarmUp() throws Exception {
    AtomicInteger received = new AtomicInteger();
    String url = serveCounting(received);
    // 200 requests/s: one every 5 ms from the start, 0.5 s of warm-up and 1 s measured; the
    // scheduled starts before the end are k = 0..299, those measured k = 100..299
    JsonNode r =
        JSON.readTree(
            LoadGenerator.run(
                new String[] {url, "open", "7", "200", "1", "3", "10", "50", "1", "0.5"}));

    assertThat(r.get("errors").asInt()).isZero();
    assertThat(received.get()).isEqualTo(300);
    assertThat(r.get("requests").asInt()).isEqualTo(200);
    assertThat(r.get("p50_ms").asDouble()).isPositive();
    assertThat(r.get("send_late_p99_ms").asDouble())
        .isGreaterThanOrEqualTo(r.get("send_late_p50_ms").asDouble())
        .isLessThanOrEqualTo(r.get("max_ms").asDouble());
  }

  /**
   * Closed loop without warm-up, so every request is measured: each counts in {@code requests} and
   * {@code rps}, however many more there are than the clients' first arrays hold (4 each here; the
   * generator once kept 100,000 samples in all and counted no more, which capped a 15 s saturation
   * phase at 6,667 requests/s).
   */
  @Test
  void everyMeasuredRequestCountsPastTheSamplesFirstCapacity() throws Exception {
    AtomicInteger received = new AtomicInteger();
    String url = serveCounting(received);
    JsonNode r =
        JSON.readTree(
            LoadGenerator.run(
                new String[] {url, "closed", "2", "0", "0.5", "3", "10", "50", "1", "0"}, 4));

    assertThat(received.get()).isGreaterThan(2 * 4);
    assertThat(r.get("requests").asInt()).isEqualTo(received.get());
    // over the 0.5 s measured and the last answers after it
    assertThat(r.get("rps").asDouble())
        .isLessThanOrEqualTo(received.get() / 0.5)
        .isGreaterThan(received.get() / 0.5 / 2);
  }

  /**
   * A ranker past its rate limit answers {@code 429} at once: those answers are errors, and neither
   * the rate nor the quantiles count them. One client, no warm-up: three requests of four are
   * refused, the fourth takes 2 ms, so the p50 of what was ranked is at least 2 ms (of all answers,
   * a refusal's).
   */
  @Test
  void refusalsAreErrorsOutsideTheRateAndTheQuantiles() throws Exception {
    AtomicInteger received = new AtomicInteger();
    AtomicInteger ranked = new AtomicInteger();
    String url =
        serve(
            exchange -> {
              if (received.incrementAndGet() % 4 != 0) {
                answer(exchange, 429);
              } else {
                // the server's work, not a wait of the test's
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                ranked.incrementAndGet();
                answer(exchange, 200);
              }
            });
    JsonNode r =
        JSON.readTree(
            LoadGenerator.run(
                new String[] {url, "closed", "1", "0", "0.5", "3", "10", "50", "1", "0"}));

    assertThat(ranked.get()).isPositive();
    assertThat(r.get("requests").asInt()).isEqualTo(ranked.get());
    assertThat(r.get("errors").asInt()).isEqualTo(received.get() - ranked.get());
    assertThat(r.get("status_5xx").asInt()).isZero();
    assertThat(r.get("rps").asDouble()).isLessThanOrEqualTo(ranked.get() / 0.5);
    assertThat(r.get("p50_ms").asDouble()).isGreaterThanOrEqualTo(2.0);
  }

  /**
   * The ranker's own figures are read at the start of the generator's measured window and after its
   * last answer, not around the generator's process: its unmeasured warm-up is not in them. The
   * server here counts its rank requests in {@code /metrics} as the ranker does (1 ms each, and 2
   * ms of JIT with each). 200 requests/s: 0.5 s of warm-up (100 requests), 1 s measured (200).
   */
  @Test
  void theServerSideFiguresAreOfTheMeasuredWindow() throws Exception {
    AtomicInteger received = new AtomicInteger();
    String url = serveCounting(received);
    server.createContext(
        "/metrics",
        exchange -> {
          int n = received.get();
          byte[] out =
              String.join(
                      "\n",
                      "ranker_request_latency_seconds_count{endpoint=\"/v1/rank\"} " + n,
                      "ranker_request_latency_seconds_sum{endpoint=\"/v1/rank\"} " + n * 0.001,
                      "ranker_request_latency_seconds_bucket{endpoint=\"/v1/rank\",le=\"0.001\"} "
                          + n,
                      "ranker_request_latency_seconds_bucket{endpoint=\"/v1/rank\",le=\"+Inf\"} "
                          + n,
                      "jvm_compilation_time_ms_total{compiler=\"HotSpot\"} " + 2 * n,
                      "")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    System.setProperty(LoadGenerator.METRICS_URL_PROPERTY, url.replace("/v1/rank", "/metrics"));

    JsonNode r =
        JSON.readTree(
            LoadGenerator.run(
                new String[] {url, "open", "7", "200", "1", "3", "10", "50", "1", "0.5"}));
    JsonNode own = r.get("server");
    assertThat(received.get()).isEqualTo(300);
    assertThat(r.get("requests").asInt()).isEqualTo(200);
    // a request in flight at the window's start is the server's alone: at most one a client
    assertThat(own.get("server_side_requests").asDouble()).isCloseTo(200, within(7.0));
    assertThat(own.get("server_mean_ms").asDouble()).isCloseTo(1.0, within(1e-6));
    assertThat(r.get("server_jit_ms").asDouble())
        .isCloseTo(2 * own.get("server_side_requests").asDouble(), within(0.1));
    assertThat(r.get("seconds").asDouble()).isGreaterThanOrEqualTo(1.0);

    // without a warm-up, the window's first reading comes before the first request: all of them
    received.set(0);
    JsonNode cold =
        JSON.readTree(
            LoadGenerator.run(
                new String[] {url, "open", "7", "200", "1", "3", "10", "50", "1", "0"}));
    assertThat(cold.get("requests").asInt()).isEqualTo(200);
    assertThat(cold.get("server").get("server_side_requests").asDouble()).isEqualTo(200);
  }
}
