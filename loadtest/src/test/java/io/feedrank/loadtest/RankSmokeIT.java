package io.feedrank.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.loadtest.endpoints.Fallbacks;
import io.feedrank.loadtest.simulations.RankRamp;
import io.feedrank.loadtest.simulations.RankSoak;
import io.feedrank.loadtest.simulations.RankSpike;
import io.feedrank.loadtest.simulations.RankSteady;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.ranker.RankerApp;
import io.feedrank.ranker.RankerConfig;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Every simulation, shrunk to a few seconds, against a real ranker on the local stack serving a
 * real production model, so the load tests cannot rot: each must pass its pre-flight and its
 * assertions, and the ranker must have answered with 200 the number of arrivals its injection
 * profile implies in closed form (within Gatling's rounding per injection step), every one counted
 * as synthetic and scored by the model with ONNX Runtime, none a fallback. Without a model every
 * request was a no_model fallback, ranked by popularity, and the smoke test measured that.
 */
@LocalStackTest
class RankSmokeIT {
  @Test
  void everySimulationRunsAgainstARealRankerWithoutErrors(LocalStack stack) throws Exception {
    Path results = Path.of("target", "gatling-smoke-" + System.nanoTime()).toAbsolutePath();
    Map<String, String> c = TestRankers.config(stack, results);
    TestRankers.publishProductionModel(stack, c);
    Map<String, String> props = new HashMap<>();
    try (RankerApp ranker = RankerApp.start(RankerConfig.from(c))) {
      assertThat(ranker.awaitReady(Duration.ofSeconds(60))).as("the ranker is ready").isTrue();
      // with the trailing slash a user may well type: the requests still go to /v1/rank
      props.put("target", "http://127.0.0.1:" + ranker.port() + "/");
      // evenly spaced arrivals, whose counts the closed forms below give within Gatling's rounding;
      // Poisson arrivals (the default) vary by about the square root of the count
      props.put("arrivals", "uniform");
      props.put("rate", "5");
      props.put("max.rate", "10");
      props.put("duration", "2");
      props.put("ramp.duration", "2");
      props.put("soak.duration", "2");
      props.put("spike.factor", "3");
      props.put("warmup", "2");
      props.put("candidates", "100");
      // no latency bound: this checks that the simulations run and send what they say, on a
      // shared machine whose latency says nothing about the code
      props.put("assert.p99.ms", "0");
      props.put("assert.error.percent", "0");
      props.forEach(System::setProperty);
      // arrivals of each open injection profile, in closed form (rate × duration; a linear ramp's
      // mean rate × duration), and the rounding Gatling may do per injection step; every profile
      // comes after the warm-up, a ramp from max(1, rate / 10) = 1/s to the rate, 5/s, over 2 s
      long warmUp = (1 + 5) / 2 * 2;
      Map<Class<?>, long[]> expected =
          Map.of(
              RankSteady.class, new long[] {warmUp + 10, 2},
              RankRamp.class, new long[] {warmUp + (5 + 10) / 2 * 2 + 1, 2},
              RankSpike.class, new long[] {warmUp + 5 * 2 + 15 * 1 + 5 * 2, 3},
              RankSoak.class, new long[] {warmUp + 10, 2});
      for (Class<?> simulation :
          List.of(RankSteady.class, RankRamp.class, RankSpike.class, RankSoak.class)) {
        double before = answered(ranker);
        double syntheticBefore = synthetic(ranker);
        double scoredBefore = scored(ranker);
        double fallbacksBefore = fallbacks(ranker);
        // ./feedrank loadtest's entry point, in this JVM: its pre-flight, then Gatling's run;
        // non-zero when a request failed its checks or the error share was exceeded
        int exit = TestRankers.loadtest(simulation, results, System.out, System.err);
        assertThat(exit).as(simulation.getSimpleName() + " exit code").isZero();
        long[] e = expected.get(simulation);
        double answered = answered(ranker) - before;
        assertThat(answered)
            .as(simulation.getSimpleName() + ": requests the ranker answered with 200")
            .isBetween((double) e[0] - e[1], (double) e[0] + e[1]);
        assertThat(synthetic(ranker) - syntheticBefore)
            .as(simulation.getSimpleName() + ": every request is marked synthetic")
            .isEqualTo(answered);
        assertThat(scored(ranker) - scoredBefore)
            .as(simulation.getSimpleName() + ": every request scored by the model")
            .isEqualTo(answered);
        assertThat(fallbacks(ranker) - fallbacksBefore)
            .as(simulation.getSimpleName() + ": fallbacks")
            .isZero();
        // the load test's own count of its requests and of their fallbacks
        assertThat(Fallbacks.OF_RUN.summary())
            .as(simulation.getSimpleName() + ": the requests the load test counted")
            .isEqualTo(new Fallbacks.Summary((long) answered, new TreeMap<>()));
      }
      List<Path> reports;
      try (var runs = Files.list(results)) {
        reports = runs.map(r -> r.resolve("index.html")).filter(Files::exists).toList();
      }
      assertThat(reports).as("one HTML report per simulation").hasSize(4);
      for (Path report : reports) {
        // the warm-up's requests are reported apart from the measured ones, which the p99 bound
        // selects by name
        assertThat(Files.readString(report))
            .as(report + " names the warm-up's requests and the measured ones")
            .contains("warm-up: POST /v1/rank (100 candidates)")
            .contains(">POST /v1/rank (100 candidates)");
      }
    } finally {
      props.keySet().forEach(System::clearProperty);
    }
  }

  static double synthetic(RankerApp ranker) {
    return ranker.metrics().get("ranker.requests.synthetic").counter().count();
  }

  /** Rank requests answered 200 (not the pre-flight's requests to other endpoints). */
  static double answered(RankerApp ranker) {
    return ranker
        .metrics()
        .find("ranker.requests")
        .tag("endpoint", "/v1/rank")
        .tag("status", "200")
        .counters()
        .stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  /** Requests the model scored: its ONNX Runtime calls. */
  static double scored(RankerApp ranker) {
    return ranker.metrics().get("ranker.inference.latency").timer().count();
  }

  /** Responses that were fallbacks, whatever the cause. */
  static double fallbacks(RankerApp ranker) {
    return ranker.metrics().find("ranker.fallbacks").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
