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

  @Test
  void aSeedBelowTwoToThe31IsItsOwnEngineSeed() {
    assertThat(NetworkTrainer.engineSeed(42)).isEqualTo(42);
    assertThat(NetworkTrainer.engineSeed(Integer.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
  }
}
