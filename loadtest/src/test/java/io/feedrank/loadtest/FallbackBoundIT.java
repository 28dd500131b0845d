package io.feedrank.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.loadtest.endpoints.Fallbacks;
import io.feedrank.loadtest.simulations.RankSteady;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.TcpGate;
import io.feedrank.ranker.RankerApp;
import io.feedrank.ranker.RankerConfig;
import io.micrometer.core.instrument.Counter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ranker that passed the pre-flight (ready, a production model) and then lost Redis answers every
 * request 200 with {@code "fallback": true}: a run whose share of such answers is over {@code
 * assert.fallback.percent} (0 by default) fails, exit code 2, saying how many by reason; within it
 * the run passes. The ranker sits behind a TCP gate in front of the stack's real Redis, shut once
 * it is ready. Before, every fallback counted as a success and the run passed, having measured the
 * popularity fallback.
 */
@LocalStackTest
class FallbackBoundIT {
  @TempDir Path dir;

  @Test
  void aRunAnsweredWithFallbacksFailsUnlessTheyAreWithinTheBound(LocalStack stack)
      throws Exception {
    URI redis = URI.create(stack.redisUri());
    Map<String, String> props = new HashMap<>();
    try (TcpGate gate = new TcpGate(redis.getHost(), redis.getPort())) {
      Map<String, String> c = TestRankers.config(stack, dir);
      c.put("redis.uri", "redis://127.0.0.1:" + gate.port());
      TestRankers.publishProductionModel(stack, c);
      try (RankerApp ranker = RankerApp.start(RankerConfig.from(c))) {
        assertThat(ranker.awaitReady(Duration.ofSeconds(60))).as("the ranker is ready").isTrue();
        gate.shut();
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> rank(ranker.port()).contains("\"fallback\":true"));

        props.put("target", "http://127.0.0.1:" + ranker.port());
        props.put("arrivals", "uniform");
        props.put("rate", "5");
        props.put("duration", "2");
        props.put("warmup", "0");
        props.put("assert.p99.ms", "0");
        props.forEach(System::setProperty);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        double fallbacksBefore = fallbacks(ranker);
        int exit = loadtest(out, err);
        assertThat(exit).as(said(err)).isEqualTo(Main.REFUSED);
        Fallbacks.Summary run = Fallbacks.OF_RUN.summary();
        // what the load test counted is what the ranker counted
        assertThat((double) run.fallbacks())
            .as("fallbacks the load test counted")
            .isEqualTo(fallbacks(ranker) - fallbacksBefore)
            .isEqualTo(run.requests());
        assertThat(run.requests()).as("rank requests").isBetween(8L, 12L);
        assertThat(said(err))
            .startsWith(
                "feedrank loadtest: "
                    + run.requests()
                    + " of "
                    + run.requests()
                    + " rank requests (100.0%) answered with a fallback, not the model's ranking:"
                    + " redis_")
            .contains("; over assert.fallback.percent 0.0");

        System.setProperty("assert.fallback.percent", "100");
        props.put("assert.fallback.percent", "100");
        out.reset();
        err.reset();
        assertThat(loadtest(out, err)).as(said(err)).isZero();
        assertThat(said(out)).contains("(100.0%) answered with a fallback");
      }
    } finally {
      props.keySet().forEach(System::clearProperty);
    }
  }

  private int loadtest(ByteArrayOutputStream out, ByteArrayOutputStream err) throws Exception {
    return TestRankers.loadtest(
        RankSteady.class,
        dir.resolve("results"),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String said(ByteArrayOutputStream s) {
    return s.toString(StandardCharsets.UTF_8);
  }

  private static String rank(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/rank"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\":1,\"item_ids\":[1,2]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static double fallbacks(RankerApp ranker) {
    return ranker.metrics().find("ranker.fallbacks").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
