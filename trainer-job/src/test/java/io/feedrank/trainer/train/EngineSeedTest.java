package io.feedrank.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The engine seed takes both halves of the configured 64-bit seed. */
class EngineSeedTest {

  @Test
  void seedsDifferingOnlyInTheirHighHalfGiveDifferentEngineSeeds() {
    long low = 42;
    long high = (7L << 32) | 42;
    assertThat(NetworkTrainer.engineSeed(high)).isNotEqualTo(NetworkTrainer.engineSeed(low));
  }

  /** As the plain cast of earlier builds: their runs of such seeds reproduce. */
  @Test
  void aSeedThatFitsAnIntIsItsOwnEngineSeed() {
    assertThat(NetworkTrainer.engineSeed(42)).isEqualTo(42);
    assertThat(NetworkTrainer.engineSeed(Integer.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
    assertThat(NetworkTrainer.engineSeed(-5)).isEqualTo(-5);
    assertThat(NetworkTrainer.engineSeed(-1)).isEqualTo(-1);
    assertThat(NetworkTrainer.engineSeed(Integer.MIN_VALUE)).isEqualTo(Integer.MIN_VALUE);
  }
}
