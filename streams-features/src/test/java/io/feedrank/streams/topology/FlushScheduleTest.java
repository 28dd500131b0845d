package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlushScheduleTest {
  /** Punctuations every 100 ms from t = 0 to 5 s; returns the times a flush was due. */
  static List<Long> flushes(FlushSchedule s, java.util.function.LongUnaryOperator streamTime) {
    List<Long> due = new ArrayList<>();
    for (long t = 0; t <= 5_000; t += 100) {
      if (s.due(1_000_000 + t, streamTime.applyAsLong(t))) {
        due.add(t);
      }
    }
    return due;
  }

  @Test
  void recentRecordsFlushAtEveryPunctuation() {
    List<Long> due = flushes(new FlushSchedule(Duration.ofSeconds(1)), t -> 1_000_000 + t - 500);
    assertThat(due).hasSize(51);
  }

  @Test
  void recordsMoreThanTheIntervalBehindFlushOncePerInterval() {
    List<Long> due = flushes(new FlushSchedule(Duration.ofSeconds(1)), t -> 1_000_000 + t - 1_001);
    assertThat(due).containsExactly(0L, 1_000L, 2_000L, 3_000L, 4_000L, 5_000L);
  }

  /** Behind until 2.3 s, then caught up: once a second, then every 100 ms. */
  @Test
  void catchingUpReturnsToEveryPunctuation() {
    List<Long> due =
        flushes(new FlushSchedule(Duration.ofSeconds(1)), t -> t < 2_300 ? 0 : 1_000_000 + t - 50);
    List<Long> expected = new ArrayList<>(List.of(0L, 1_000L, 2_000L));
    for (long t = 2_300; t <= 5_000; t += 100) {
      expected.add(t);
    }
    assertThat(due).isEqualTo(expected);
  }

  @Test
  void zeroAndATaskWithoutRecordsFlushAtEveryPunctuation() {
    assertThat(flushes(new FlushSchedule(Duration.ZERO), t -> 0)).hasSize(51);
    assertThat(flushes(new FlushSchedule(Duration.ofSeconds(1)), t -> -1)).hasSize(51);
    assertThatThrownBy(() -> new FlushSchedule(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
