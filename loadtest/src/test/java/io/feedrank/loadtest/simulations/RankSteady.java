package io.feedrank.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.Simulation;

/** A constant arrival rate of {@code rate} requests/s for {@code duration}. */
public class RankSteady extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(RankScenarios.warmedUp(c, constantUsersPerSec(c.rate()).during(c.duration())))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.assertions(c));
  }
}
