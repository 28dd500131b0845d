package io.feedrank.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.preflight.Preflight;
import io.feedrank.loadtest.simulations.RankRamp;
import io.feedrank.loadtest.simulations.RankSoak;
import io.feedrank.loadtest.simulations.RankSpike;
import io.feedrank.loadtest.simulations.RankSteady;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.Ports;
import io.feedrank.models.Checksums;
import io.feedrank.ranker.RankerApp;
import io.feedrank.ranker.RankerConfig;
import io.micrometer.core.instrument.Counter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-flight against real rankers on the local stack: a ranker without a model, or one that
 * refuses the run's key, or whose rate limit is below the run's peak, or no ranker at all, is
 * refused in seconds with exit code 4 and why, before any load; a ready one passes, its readiness
 * read on its management port. Without it, the run against a ranker without a model passed (exit
 * code 0), measuring popularity fallbacks; the others were loaded for the whole run and failed as a
 * missed SLO.
 */
@LocalStackTest
class PreflightIT {
  @TempDir Path dir;

  private final Map<String, String> props = new HashMap<>();
  private final ByteArrayOutputStream said = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(said, true, StandardCharsets.UTF_8);

  @AfterEach
  void clearProperties() {
    props.keySet().forEach(System::clearProperty);
  }

  @Test
  void aRankerWithoutAModelOrRefusingTheKeyIsRefusedBeforeAnyLoad(LocalStack stack)
      throws Exception {
    String key = "loadtest-key-1";
    Path keys =
        Files.writeString(
            dir.resolve("keys"),
            "loadtest " + Checksums.sha256(key.getBytes(StandardCharsets.UTF_8)) + "\n");
    Map<String, String> c = TestRankers.config(stack, dir);
    c.put("api.keys.file", keys.toString());
    try (RankerApp ranker = RankerApp.start(RankerConfig.from(c))) {
      // a run that starts ends in seconds: without the pre-flight, this test would say what it
      // did rather than wait for it
      set("target", "http://127.0.0.1:" + ranker.port());
      set("rate", "5");
      set("duration", "2");
      set("warmup", "0");
      set("assert.p99.ms", "0");

      Path good = Files.writeString(dir.resolve("good"), key);
      set("api.key.file", good.toString());
      assertThat(run(RankSteady.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said())
          .contains(
              "the ranker is not ready", "/health/ready answered 503", "\"model_loaded\":false");

      Path bad = Files.writeString(dir.resolve("bad"), "another-key");
      set("api.key.file", bad.toString());
      assertThat(run(RankSteady.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said())
          .contains(
              "/v1/config answered 401: bad or missing FEEDRANK_API_KEY (the key given is not one"
                  + " of the ranker's)");

      System.clearProperty("api.key.file");
      assertThat(run(RankSteady.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said())
          .contains(
              "bad or missing FEEDRANK_API_KEY (none given: set FEEDRANK_API_KEY or give"
                  + " --api-key-file)");

      assertThat(rankRequests(ranker)).as("rank requests the ranker saw").isZero();
    }
  }

  @Test
  void aReadyRankerPassesWithinItsRateLimitAndIsRefusedPastIt(LocalStack stack) throws Exception {
    Map<String, String> c = TestRankers.config(stack, dir);
    // the ops endpoints on a port of their own: the service's port has no /health/ready (404)
    c.put("management.port", Integer.toString(Ports.freePort()));
    c.put("rate.limit.per.second", "10");
    c.put("rate.limit.burst", "20");
    TestRankers.publishProductionModel(stack, c);
    try (RankerApp ranker = RankerApp.start(RankerConfig.from(c))) {
      assertThat(ranker.awaitReady(Duration.ofSeconds(60))).as("the ranker is ready").isTrue();
      set("target", "http://127.0.0.1:" + ranker.port());
      set("duration", "2");
      set("ramp.duration", "2");
      set("warmup", "0");
      set("assert.p99.ms", "0");
      set("rate", "10");
      Preflight.check(LoadConfig.fromSystemProperties(), 10, "rate");

      set("rate", "20");
      assertThat(run(RankSteady.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said())
          .contains(
              "the run's peak of 20 requests/s (rate) is over the ranker's rate limit of 10"
                  + " requests/s",
              "--ranker-config rate.limit.per.second=20");
      set("rate", "5");
      set("max.rate", "15");
      assertThat(run(RankRamp.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said()).contains("peak of 15 requests/s (the ramp's max.rate)");
      set("spike.factor", "3");
      assertThat(run(RankSpike.class)).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
      assertThat(said()).contains("peak of 15 requests/s (the spike's rate × spike.factor)");
      assertThat(rankRequests(ranker)).as("rank requests the ranker saw").isZero();

      // behind a load balancer over two such rankers, 20/s is within their limits
      set("ranker.replicas", "2");
      Preflight.check(LoadConfig.fromSystemProperties(), 20, "rate");
    }
  }

  /**
   * A soak (an hour by default) against a port where nothing listens ends within seconds, with the
   * pre-flight's exit code and the address it could not reach: it was an hour of refused
   * connections, then the exit code of a missed SLO.
   */
  @Test
  void aTargetWhereNothingListensFailsInSecondsWithThePreflightsExitCode() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    set("target", "http://127.0.0.1:" + closed + "/");
    int exit = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run(RankSoak.class));
    assertThat(exit).as(said()).isEqualTo(Main.PREFLIGHT_FAILED);
    assertThat(said())
        .startsWith(
            "feedrank loadtest: pre-flight: GET http://127.0.0.1:" + closed + "/v1/config failed:")
        .contains("ConnectException", "no load sent");
  }

  private void set(String key, String value) {
    props.put(key, value);
    System.setProperty(key, value);
  }

  private int run(Class<?> simulation) throws Exception {
    said.reset();
    return TestRankers.loadtest(simulation, dir.resolve("results"), err, err);
  }

  private String said() {
    return said.toString(StandardCharsets.UTF_8);
  }

  private static double rankRequests(RankerApp ranker) {
    return ranker.metrics().find("ranker.requests").tag("endpoint", "/v1/rank").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
