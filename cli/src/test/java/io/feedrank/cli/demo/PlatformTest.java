package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * A platform closed (by a shutdown hook, while up or the demo is still starting) starts nothing
 * more: what the starting thread would start after the close would run on, closed by nothing.
 */
class PlatformTest {
  @Test
  void aClosedPlatformStartsNoListenerAndNoAdminClient() {
    Platform p = new Platform();
    p.close();
    assertThatThrownBy(p::listen)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the platform is closed: a retrain listener is not started");
    assertThatThrownBy(p::featuresLag)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the platform is closed: an admin client is not started");
  }
}
