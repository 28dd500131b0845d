package io.feedrank.loadtest.simulations;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.Simulation;

/**
 * A long steady run ({@code soak.duration}, an hour by default): leaks and drift show over time.
 */
public class RankSoak extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(RankScenarios.warmedUp(c, load(c)))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.assertions(c));
  }

  /** The measured load's injection steps. */
  public static OpenInjectionStep[] load(LoadConfig c) {
    return new OpenInjectionStep[] {RankScenarios.constant(c, c.rate(), c.soakDuration())};
  }
}
