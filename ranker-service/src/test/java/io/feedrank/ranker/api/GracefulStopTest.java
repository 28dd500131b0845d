package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Stopping drains: a request in flight when the stop begins still gets its answer. */
class GracefulStopTest {
  @Test
  void aRequestInFlightCompletesAndReadinessGoesDownWhileDraining() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    RankerHttp.Backend backend =
        new RankerHttp.Backend() {
          @Override
          public RankResult rank(RankRequest r) {
            entered.countDown();
            try {
              release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
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
    RankerHttp server =
        new VertxRankerServer(
                backend,
                new RankerHttp.Settings("127.0.0.1", 0, 2, 4096, null, null),
                new SimpleMeterRegistry())
            .start();
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + server.port();
    CompletableFuture<HttpResponse<String>> inFlight =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(base + "/v1/rank"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\":1,\"item_ids\":[2]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(10_000));
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                http.send(
                            HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                            HttpResponse.BodyHandlers.ofString())
                        .statusCode()
                    == 503);
    assertThat(stopping).isNotDone(); // waiting for the request in flight
    release.countDown();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    stopping.get(15, TimeUnit.SECONDS);
  }
}
