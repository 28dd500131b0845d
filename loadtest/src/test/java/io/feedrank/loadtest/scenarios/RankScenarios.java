package io.feedrank.loadtest.scenarios;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.feeders.RankFeeder;
import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import java.time.Duration;
import java.util.List;

/** One virtual user = one app asking for one ranked feed (open model: arrivals per second). */
public final class RankScenarios {
  private RankScenarios() {}

  private static ScenarioBuilder feed(LoadConfig c, boolean warmUp) {
    return scenario(
            (warmUp ? LoadConfig.WARM_UP_PREFIX : "") + "feed of " + c.candidates() + " candidates")
        .feed(new RankFeeder(c, warmUp ? 1 : 0))
        .exec(RankEndpoint.rank(c, warmUp))
        .exec(RankEndpoint::countFallback);
  }

  /**
   * The measured load ({@code steps}) after the warm-up ({@code warmup} seconds of arrivals rising
   * from {@link LoadConfig#warmupStartRate} to {@code rate}, reported under their own name); the
   * measured load alone when {@code warmup} is 0.
   */
  public static PopulationBuilder warmedUp(LoadConfig c, OpenInjectionStep... steps) {
    PopulationBuilder measured = feed(c, false).injectOpen(steps);
    if (c.warmup().isZero()) {
      return measured;
    }
    return feed(c, true)
        .injectOpen(ramp(c, c.warmupStartRate(), c.rate(), c.warmup()))
        .andThen(measured);
  }

  /** {@code rate} arrivals per second for {@code duration}, spaced as {@code arrivals} says. */
  public static OpenInjectionStep constant(LoadConfig c, double rate, Duration duration) {
    var step = constantUsersPerSec(rate).during(duration);
    return c.arrivals() == LoadConfig.Arrivals.POISSON ? step.randomized() : step;
  }

  /**
   * Arrivals per second rising linearly from {@code from} to {@code to} over {@code duration},
   * spaced as {@code arrivals} says.
   */
  public static OpenInjectionStep ramp(LoadConfig c, double from, double to, Duration duration) {
    var step = rampUsersPerSec(from).to(to).during(duration);
    return c.arrivals() == LoadConfig.Arrivals.POISSON ? step.randomized() : step;
  }

  /**
   * The p99 bound, on the measured requests only (not the warm-up's), and the error bound, on every
   * request: a warm-up that fails fails the run. With {@code assert.p99.ms} 0, the error bound
   * alone.
   */
  public static List<Assertion> assertions(LoadConfig c) {
    if (c.p99Millis() == 0) {
      return List.of(errorBound(c));
    }
    return List.of(
        details(RankEndpoint.requestName(c)).responseTime().percentile(99.0).lt(c.p99Millis()),
        errorBound(c));
  }

  /** Failed requests, warm-up included, within {@code assert.error.percent}. */
  public static Assertion errorBound(LoadConfig c) {
    return global().failedRequests().percent().lte(c.maxErrorPercent());
  }
}
