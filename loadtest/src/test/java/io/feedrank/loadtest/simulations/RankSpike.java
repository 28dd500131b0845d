package io.feedrank.loadtest.simulations;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * A sudden burst: {@code rate} for {@code duration}, then {@code spike.factor} × that (10× by
 * default) for a sixth of it (at least a second), then back to {@code rate} for another {@code
 * duration}. The error bound applies throughout (a spike may slow the ranker, it must not break
 * it).
 */
public class RankSpike extends Simulation {
  {
    LoadConfig c = LoadConfig.fromSystemProperties();
    setUp(RankScenarios.warmedUp(c, load(c)))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.errorBound(c));
  }

  /** The measured load's injection steps. */
  public static OpenInjectionStep[] load(LoadConfig c) {
    // whole seconds, at least one: Gatling injects nothing for a sub-second step
    Duration spike = Duration.ofSeconds(Math.max(1, c.duration().dividedBy(6).toSeconds()));
    return new OpenInjectionStep[] {
      RankScenarios.constant(c, c.rate(), c.duration()),
      RankScenarios.constant(c, c.rate() * c.spikeFactor(), spike),
      RankScenarios.constant(c, c.rate(), c.duration())
    };
  }
}
