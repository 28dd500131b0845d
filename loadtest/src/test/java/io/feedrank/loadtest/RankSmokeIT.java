package io.feedrank.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every simulation, shrunk to a few seconds, against a real ranker on the local stack, so the load
 * tests cannot rot: each must pass its assertions, and the number of requests Gatling reports must
 * be the number the ranker counted, all answered 200.
 */
@LocalStackTest
class RankSmokeIT {
  @Test
  void everySimulationRunsAgainstARealRankerWithoutErrors(LocalStack stack) throws Exception {
    Path results = Path.of("target", "gatling-smoke-" + System.nanoTime()).toAbsolutePath();
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("redis.uri", stack.redisUri());
    c.put("port", "0");
    c.put("artifact.store", results.resolve("artifacts").toString());
    try (RankerApp ranker = RankerApp.start(RankerConfig.from(c))) {
      Map<String, String> props =
          Map.of(
              "target", "http://127.0.0.1:" + ranker.port(),
              "rate", "5",
              "max.rate", "10",
              "duration", "2",
              "ramp.duration", "2",
              "soak.duration", "2",
              "spike.factor", "3",
              "candidates", "100",
              "assert.p99.ms", "5000",
              "assert.error.percent", "0");
      props.forEach(System::setProperty);
      // arrivals of each open injection profile, in closed form (rate × duration; a linear ramp's
      // mean rate × duration), and the rounding Gatling may do per injection step
      Map<Class<?>, long[]> expected =
          Map.of(
              RankSteady.class, new long[] {10, 1},
              RankRamp.class, new long[] {(5 + 10) / 2 * 2 + 1, 1},
              RankSpike.class, new long[] {5 * 2 + 15 * 1 + 5 * 2, 2},
              RankSoak.class, new long[] {10, 1});
      for (Class<?> simulation :
          List.of(RankSteady.class, RankRamp.class, RankSpike.class, RankSoak.class)) {
        double before = answered(ranker);
        // Gatling's own entry point, as the Maven plugin calls it, in this JVM; non-zero when a
        // request failed its checks or an assertion (p99, error share) failed
        int exit =
            io.gatling.app.Gatling$.MODULE$.fromArgs(
                new String[] {
                  "--simulation", simulation.getName(), "--results-folder", results.toString()
                });
        assertThat(exit).as(simulation.getSimpleName() + " exit code").isZero();
        long[] e = expected.get(simulation);
        assertThat(answered(ranker) - before)
            .as(simulation.getSimpleName() + ": requests the ranker answered with 200")
            .isBetween((double) e[0] - e[1], (double) e[0] + e[1]);
      }
      try (var runs = Files.list(results)) {
        assertThat(runs.filter(r -> Files.exists(r.resolve("index.html"))).count())
            .as("one HTML report per simulation")
            .isEqualTo(4);
      }
    } finally {
      List.of("target", "rate", "max.rate", "duration", "ramp.duration", "soak.duration")
          .forEach(System::clearProperty);
    }
  }

  static double answered(RankerApp ranker) {
    return ranker.metrics().find("ranker.requests").tag("status", "200").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
