package io.feedrank.loadtest.scenarios;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.feeders.RankFeeder;
import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.ScenarioBuilder;
import java.util.List;

/** One virtual user = one app asking for one ranked feed (open model: arrivals per second). */
public final class RankScenarios {
  private RankScenarios() {}

  public static ScenarioBuilder feed(LoadConfig c) {
    return scenario("feed of " + c.candidates() + " candidates")
        .feed(new RankFeeder(c))
        .exec(RankEndpoint.rank(c));
  }

  /** p99 latency and error rate bounds from the properties. */
  public static List<Assertion> assertions(LoadConfig c) {
    return List.of(
        global().responseTime().percentile(99.0).lt(c.p99Millis()),
        global().failedRequests().percent().lte(c.maxErrorPercent()));
  }
}
