package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.simulator.Scenario;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DemoConfigTest {
  private static final DemoConfig DEFAULTS = DemoConfig.defaults(Path.of("unused"));

  /**
   * A CTR window of the CTR_DROP demo holds enough of the feed client's impressions to be judged,
   * at the fastest event time the demo has run at (~220× wall time, README): what the feed shows
   * per wall second, times the wall time one window lasts, against {@code ctr.min.impressions},
   * with half again to spare for a slow second of the client.
   */
  @Test
  void aCtrDropWindowHoldsEnoughServedImpressionsAtTheFastestEventTime() {
    DemoConfig c = DEFAULTS.withScenario(Scenario.CTR_DROP, 1.0, 1);
    double fastest = 220;
    double wallSeconds = c.ctrWindow().toMillis() / 1000.0 / fastest;
    double impressions = c.rankRate() * c.topK() * wallSeconds;
    assertThat(c.ctrMinImpressions()).isPositive();
    assertThat(impressions).isGreaterThanOrEqualTo(1.5 * c.ctrMinImpressions());
    // a drift window alone would not do: that is why the CTR windows are longer
    double inADriftWindow = c.rankRate() * c.topK() * c.window().toMillis() / 1000.0 / fastest;
    assertThat(inADriftWindow).isLessThan(c.ctrMinImpressions());
  }

  @Test
  void otherScenariosKeepTheDriftWindowsAndTheJobsDefault() {
    for (Scenario s : new Scenario[] {Scenario.CATEGORY_SHIFT, Scenario.DEVICE_SHIFT}) {
      DemoConfig c = DEFAULTS.withScenario(s, 1.0, 1);
      assertThat(c.ctrWindow()).isEqualTo(c.window()).isEqualTo(Duration.ofMinutes(5));
      assertThat(c.ctrMinImpressions()).isZero();
    }
  }
}
