package io.feedrank.loadtest.simulations;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.Simulation;

/**
 * Arrivals ramp linearly from {@code rate} to {@code max.rate} requests/s (at least {@code rate})
 * over {@code ramp.duration}, towards saturation: where latency turns up in the report is the
 * sustainable rate. No assertions beyond the error bound (saturation is what it looks for).
 */
public class RankRamp extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(RankScenarios.warmedUp(c, load(c)))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.errorBound(c));
  }

  /** The measured load's injection steps. */
  public static OpenInjectionStep[] load(LoadConfig c) {
    return new OpenInjectionStep[] {
      RankScenarios.ramp(c, c.rate(), c.rampEndRate(), c.rampDuration())
    };
  }
}
