package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class StreamsProgressTest {
  static final long S = 1_000_000_000L;

  /**
   * 1,000 events/s to 30 s, then 2,000/s to 60 s; the JIT compiles 200 ms/s until t = 20 s, then 10
   * ms/s. Over a 5 s look-back from t (20 < t < 25) it compiled 4000 + 10 (t - 20) - 200 (t - 5)
   * ms, at most 50 ms/s from t = 24 s. 90% of the 90,000 events are committed at 55.5 s.
   */
  @Test
  void theWarmRateStartsWhereTheJitWentQuiet() {
    StreamsBenchmark.Progress p = new StreamsBenchmark.Progress(6_000, () -> 0);
    double jit = 0;
    for (int tenth = 0; tenth <= 600; tenth++) {
      double t = tenth / 10.0;
      long committed = (long) (t * (t < 30 ? 1_000 : 2_000) - (t < 30 ? 0 : 30_000));
      // the item side trails the input by 2 s
      long completed =
          Math.max(0, (long) ((t - 2) * (t - 2 < 30 ? 1_000 : 2_000) - (t - 2 < 30 ? 0 : 30_000)));
      p.observe(committed, completed, (long) (t * S), jit);
      jit += t < 20 ? 20 : 1;
    }
    StreamsBenchmark.Progress.Warm w = p.warm(90_000, 50);
    assertThat(w.seconds()).isCloseTo(31.5, within(1e-6));
    assertThat(w.fromFraction()).isCloseTo(24_000 / 90_000.0, within(1e-6));
    // 24-30 s at 1,000/s and 30-55.5 s at 2,000/s
    assertThat(w.eventsPerSecond()).isCloseTo((6 * 1_000 + 25.5 * 2_000) / 31.5, within(1e-3));
    assertThat(w.jitMillisPerSecond()).isCloseTo(10, within(0.5));
    // over the same 31.5 s the item side covers the input curve from 22 s to 53.5 s: 22-30 s at
    // 1,000/s, 30-53.5 s at 2,000/s
    assertThat(w.completedPerSecond()).isCloseTo((8 * 1_000 + 23.5 * 2_000) / 31.5, within(1e-3));
    assertThat(p.committed).isEqualTo(6_000);
    assertThat(p.nanos).isEqualTo(6 * S);
  }

  @Test
  void aJitThatNeverGoesQuietLeavesTheBacklogFromHalfTo90Percent() {
    StreamsBenchmark.Progress p = new StreamsBenchmark.Progress(1_000, () -> 0);
    for (int s = 0; s <= 100; s++) {
      p.observe(s * 1_000L, s * 800L, s * S, s * 500.0);
    }
    StreamsBenchmark.Progress.Warm w = p.warm(100_000, 50);
    assertThat(w.fromFraction()).isEqualTo(0.5);
    assertThat(w.seconds()).isEqualTo(40.0);
    assertThat(w.eventsPerSecond()).isEqualTo(1_000.0);
    assertThat(w.jitMillisPerSecond()).isEqualTo(500.0);
    assertThat(w.completedPerSecond()).isEqualTo(800.0);
  }
}
