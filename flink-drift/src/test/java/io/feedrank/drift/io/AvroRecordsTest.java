package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The Kafka timestamps of the drift job's outputs: their event time, but no later than the clock
 * plus a minute, so that a broker with the default {@code message.timestamp.after.max.ms} (1 h)
 * takes a window that closed hours ahead of the clock ({@link AvroRecordsIT} sends one).
 */
class AvroRecordsTest {
  static final long NOW = 1_800_000_000_000L;
  static final long HOUR = 3_600_000;

  @Test
  void aRecordTwoHoursAheadOfTheClockIsStampedAMinuteAhead() {
    assertThat(AvroRecords.stamp(NOW + 2 * HOUR, NOW)).isEqualTo(NOW + 60_000);
    assertThat(AvroRecords.stamp(Long.MAX_VALUE, NOW)).isEqualTo(NOW + 60_000);
  }

  @Test
  void aRecordUpToAMinuteAheadOrBehindTheClockKeepsItsEventTime() {
    assertThat(AvroRecords.stamp(NOW + 60_000, NOW)).isEqualTo(NOW + 60_000);
    assertThat(AvroRecords.stamp(NOW + 60_001, NOW)).isEqualTo(NOW + 60_000);
    assertThat(AvroRecords.stamp(NOW - 7 * 24 * HOUR, NOW)).isEqualTo(NOW - 7 * 24 * HOUR);
    assertThat(AvroRecords.stamp(null, NOW)).isNull();
  }
}
