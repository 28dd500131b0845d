package io.feedrank.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.Simulation;

/**
 * A long steady run ({@code soak.duration}, an hour by default): leaks and drift show over time.
 */
public class RankSoak extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(RankScenarios.warmedUp(c, constantUsersPerSec(c.rate()).during(c.soakDuration())))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.assertions(c));
  }
}
