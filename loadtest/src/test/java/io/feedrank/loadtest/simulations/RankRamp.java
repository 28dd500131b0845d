package io.feedrank.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.Simulation;

/**
 * Arrivals ramp linearly from {@code rate} to {@code max.rate} requests/s over {@code
 * ramp.duration}, past saturation: where latency turns up in the report is the sustainable rate. No
 * assertions beyond the error bound (saturation is what it looks for).
 */
public class RankRamp extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(
            RankScenarios.warmedUp(
                c, rampUsersPerSec(c.rate()).to(c.maxRate()).during(c.rampDuration())))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.errorBound(c));
  }
}
