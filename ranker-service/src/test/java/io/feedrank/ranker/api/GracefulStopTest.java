package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Stopping drains: a request in flight when the stop begins still gets its answer; with an unready
 * period, requests are still served while readiness is already DOWN.
 */
class GracefulStopTest {
  static final String RANK = "{\"user_id\":1,\"item_ids\":[2]}";

  /** A whole rank request of {@link #RANK}, as sent on a raw connection. */
  static final String RANK_REQUEST =
      "POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Length: " + RANK.length() + "\r\n\r\n" + RANK;

  /**
   * The test's server: stopped after it, again if the test did (a no-op), or if it failed first.
   */
  RankerHttp server;

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.stop(1_000);
    }
  }

  @Test
  void aRequestInFlightCompletesAndReadinessGoesDownWhileDraining() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    server = start(backend(entered, release));
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + server.port();
    CompletableFuture<HttpResponse<String>> inFlight =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(base + "/v1/rank"))
                .POST(HttpRequest.BodyPublishers.ofString(RANK))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(10_000));
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> status(http, base, "/health/ready") == 503);
    assertThat(stopping).isNotDone(); // waiting for the request in flight
    release.countDown();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    stopping.get(15, TimeUnit.SECONDS);
  }

  @Test
  void withAnUnreadyPeriodRequestsAreServedWhileReadinessIsDownThenRefused() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    release.countDown(); // every request is answered at once
    server = start(backend(new CountDownLatch(1), release));
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + server.port();
    assertThat(status(http, base, "/v1/rank")).isEqualTo(200);
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(4_000, 10_000));
    Awaitility.await()
        .atMost(Duration.ofSeconds(3))
        .until(() -> status(http, base, "/health/ready") == 503);
    // a load balancer now takes this instance out; until the period ends it still ranks
    assertThat(status(http, base, "/v1/rank")).isEqualTo(200);
    assertThat(stopping).isNotDone();
    // nothing is in flight: the stop ends soon after the period, and the port is closed (the 503
    // of a request arriving while others drain: aRankRequestWhileDrainingIsToldToRetryElsewhere)
    stopping.get(15, TimeUnit.SECONDS);
    assertThatThrownBy(() -> status(http, base, "/v1/rank")).isInstanceOf(ConnectException.class);
  }

  /**
   * A client's pooled connection is kept by a load balancer's connection tracking after the
   * instance turns unready: once stopping, its next answer says {@code Connection: close} and the
   * server closes it, so that the client opens its next connection to another instance.
   */
  @Test
  void aKeptAliveConnectionIsClosedAfterItsNextAnswerOnceStopping() throws Exception {
    server = start(backend(new CountDownLatch(1), new CountDownLatch(0)));
    try (RawHttp pooled = new RawHttp(server.port())) {
      pooled.send(RANK_REQUEST);
      RawHttp.Response before = pooled.response();
      assertThat(before.status()).isEqualTo(200);
      assertThat(before.header("connection")).isNull();
      CompletableFuture<Void> stopping =
          CompletableFuture.runAsync(() -> server.stop(3_000, 10_000));
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + server.port();
      Awaitility.await()
          .atMost(Duration.ofSeconds(3))
          .until(() -> status(http, base, "/health/ready") == 503);
      pooled.send(RANK_REQUEST);
      RawHttp.Response during = pooled.response();
      assertThat(during.status()).isEqualTo(200); // served: still in the unready period
      assertThat(during.header("connection")).isEqualToIgnoringCase("close");
      assertThat(pooled.closedByServer()).isTrue();
      assertThat(stopping).isNotDone();
      stopping.get(15, TimeUnit.SECONDS);
    }
  }

  /**
   * A rank request arriving while others drain is refused with a {@code 503} that tells the client
   * to retry (elsewhere: its connection is closed).
   */
  @Test
  void aRankRequestWhileDrainingIsToldToRetryElsewhere() throws Exception {
    server = start(backend(new CountDownLatch(1), new CountDownLatch(0)));
    try (RawHttp slow = new RawHttp(server.port())) {
      // a request whose body is still arriving holds the drain open
      slow.send(
          "POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Length: "
              + RANK.length()
              + "\r\n\r\n"
              + RANK.substring(0, 5));
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 1);
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(10_000));
      // each on a connection of its own, until the drain has begun (ranked before)
      AtomicReference<RawHttp> late = new AtomicReference<>();
      AtomicReference<RawHttp.Response> refused = new AtomicReference<>();
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                RawHttp client = new RawHttp(server.port());
                late.set(client);
                client.send(RANK_REQUEST);
                RawHttp.Response r = client.response();
                if (r.status() == 200) {
                  client.close();
                  return false;
                }
                refused.set(r);
                return true;
              });
      try (RawHttp client = late.get()) {
        RawHttp.Response r = refused.get();
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.header("retry-after")).isEqualTo("1");
        assertThat(r.header("connection")).isEqualToIgnoringCase("close");
        assertThat(new ObjectMapper().readTree(r.body()).get("error").asText())
            .isEqualTo("shutting_down");
        assertThat(client.closedByServer()).isTrue();
      }
      slow.send(RANK.substring(5));
      assertThat(slow.response().status()).isEqualTo(200);
      stopping.get(15, TimeUnit.SECONDS);
    }
  }

  /**
   * An answer still being made when the drain ends (an ops request waiting on a worker) is written
   * before its connection closes, within the grace period; the port is closed meanwhile.
   */
  @Test
  void anAnswerStillBeingMadeWhenTheDrainEndsIsWrittenBeforeItsConnectionCloses() throws Exception {
    CountDownLatch asked = new CountDownLatch(1);
    CountDownLatch answer = new CountDownLatch(1);
    server =
        start(
            backend(
                new CountDownLatch(1),
                new CountDownLatch(0),
                () -> {
                  asked.countDown();
                  await(answer);
                }));
    int port = server.port();
    try (RawHttp client = new RawHttp(port)) {
      client.send("GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(5_000));
      // nothing to drain: the server stops listening at once
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !accepts(port));
      answer.countDown();
      RawHttp.Response r = client.response();
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).contains("\"draining\":true");
      assertThat(client.closedByServer()).isTrue();
      stopping.get(15, TimeUnit.SECONDS);
    }
  }

  /** Waits up to 10 s for {@code latch}. */
  static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void aRequestWhoseBodyIsStillArrivingWhenTheStopBeginsIsAnswered() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    release.countDown();
    server = start(backend(new CountDownLatch(1), release));
    try (RawHttp client = new RawHttp(server.port())) {
      int half = RANK.length() / 2;
      client.send(
          "POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Content-Length: "
              + RANK.length()
              + "\r\n\r\n"
              + RANK.substring(0, half));
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 1);
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(10_000));
      // the stop waits for the rest of the body, not closing the connection under it
      Awaitility.await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(2))
          .until(() -> !stopping.isDone());
      client.send(RANK.substring(half));
      RawHttp.Response r = client.response();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("\"item_id\":2");
      stopping.get(15, TimeUnit.SECONDS);
    }
  }

  @Test
  void aClientGoneHalfwayThroughItsBodyIsNoLongerInFlight() throws Exception {
    server = start(backend(new CountDownLatch(1), new CountDownLatch(0)));
    RawHttp client = new RawHttp(server.port());
    client.send(
        "POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + RANK.length()
            + "\r\n\r\n"
            + RANK.substring(0, 5));
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 1);
    client.close();
    // else a stop would wait its whole grace period for a request nobody will finish
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 0);
  }

  static RankerHttp start(RankerHttp.Backend backend) {
    return new VertxRankerServer(
            backend,
            new RankerHttp.Settings("127.0.0.1", 0, 2, 4096, null, null),
            new SimpleMeterRegistry())
        .start();
  }

  /** The status of a GET of {@code path}, or of a rank request for {@code /v1/rank}. */
  static int status(HttpClient http, String base, String path) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    if (path.equals("/v1/rank")) {
      b.POST(HttpRequest.BodyPublishers.ofString(RANK));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** Counts {@code entered} down on each rank call, then waits (up to 10 s) for {@code release}. */
  static RankerHttp.Backend backend(CountDownLatch entered, CountDownLatch release) {
    return backend(entered, release, () -> {});
  }

  /** {@link #backend(CountDownLatch, CountDownLatch)} running {@code onReadiness} at each check. */
  static RankerHttp.Backend backend(
      CountDownLatch entered, CountDownLatch release, Runnable onReadiness) {
    return new RankerHttp.Backend() {
      @Override
      public RankResult rank(RankRequest r) {
        entered.countDown();
        await(release);
        return new RankResult(
            r.requestId(),
            r.userId(),
            "m",
            "v1",
            "production",
            r.itemIds(),
            new float[r.itemIds().length],
            1.0,
            null);
      }

      @Override
      public Map<String, Boolean> readiness() {
        onReadiness.run();
        return Map.of("model_loaded", true);
      }

      @Override
      public Map<String, Object> health() {
        return Map.of();
      }

      @Override
      public Map<String, Object> config() {
        return Map.of();
      }

      @Override
      public String scrape() {
        return "";
      }
    };
  }
}
