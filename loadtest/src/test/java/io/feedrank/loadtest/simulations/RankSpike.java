package io.feedrank.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.RankEndpoint;
import io.feedrank.loadtest.scenarios.RankScenarios;
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
    // whole seconds, at least one: Gatling injects nothing for a sub-second step
    Duration spike = Duration.ofSeconds(Math.max(1, c.duration().dividedBy(6).toSeconds()));
    setUp(
            RankScenarios.warmedUp(
                c,
                constantUsersPerSec(c.rate()).during(c.duration()),
                constantUsersPerSec(c.rate() * c.spikeFactor()).during(spike),
                constantUsersPerSec(c.rate()).during(c.duration())))
        .protocols(RankEndpoint.protocol(c))
        .assertions(RankScenarios.errorBound(c));
  }
}
