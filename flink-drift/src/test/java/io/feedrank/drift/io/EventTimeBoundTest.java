package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The event times a source takes: from 1970 up to {@code max.ahead.of.clock.ms} ahead of the wall
 * clock, both ends included. A record beyond them is what held a partition's watermark ahead (a
 * day, or for ever for a year-3000 or {@code Long.MAX_VALUE} stamp), so it is refused, counted and
 * logged at a limited rate.
 */
class EventTimeBoundTest {
  /** 2026-01-01T00:00:00Z. */
  static final long NOW = 1_767_225_600_000L;

  static final long DAY = 86_400_000L;

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(EventTimeBoundTest.class);

  @BeforeEach
  void capture() {
    appender.start();
    logger.addAppender(appender);
  }

  @AfterEach
  void release() {
    logger.detachAppender(appender);
  }

  @Test
  void takesEventTimesFrom1970UpToTheBoundAheadOfTheClock() {
    long bound = 30_000;
    assertThat(EventTimeBound.violation(NOW, NOW, bound)).isNull();
    assertThat(EventTimeBound.violation(NOW + 30_000, NOW, bound)).isNull();
    assertThat(EventTimeBound.violation(NOW - 7 * DAY, NOW, bound)).as("late, not future").isNull();
    assertThat(EventTimeBound.violation(0, NOW, bound)).as("the epoch itself").isNull();
    assertThat(EventTimeBound.violation(NOW + 30_001, NOW, bound))
        .isEqualTo(
            "event time 2026-01-01T00:00:30.001Z is more than 30000 ms (max.ahead.of.clock.ms)"
                + " ahead of the clock 2026-01-01T00:00:00Z");
    assertThat(EventTimeBound.violation(NOW + DAY, NOW, bound)).isNotNull();
    long year3000 = Instant.parse("3000-01-01T00:00:00Z").toEpochMilli();
    assertThat(EventTimeBound.violation(year3000, NOW, bound)).isNotNull();
    assertThat(EventTimeBound.violation(Long.MAX_VALUE, NOW, bound)).isNotNull();
    assertThat(EventTimeBound.violation(-1, NOW, bound))
        .isEqualTo("event time 1969-12-31T23:59:59.999Z is before 1970");
    assertThat(EventTimeBound.violation(Long.MIN_VALUE, NOW, bound)).isNotNull();
    // a bound of 0: nothing after the clock's own millisecond
    assertThat(EventTimeBound.violation(NOW, NOW, 0)).isNull();
    assertThat(EventTimeBound.violation(NOW + 1, NOW, 0)).isNotNull();
  }

  /** Simulated time that runs ahead of the clock: no bound by it, but none before 1970. */
  @Test
  void noBoundTakesAnyTimeAheadButNoneBefore1970() {
    assertThat(EventTimeBound.violation(Long.MAX_VALUE, NOW, EventTimeBound.NONE)).isNull();
    assertThat(EventTimeBound.violation(NOW + 3650 * DAY, NOW, EventTimeBound.NONE)).isNull();
    assertThat(EventTimeBound.violation(Long.MAX_VALUE, 0, EventTimeBound.NONE)).isNull();
    assertThat(EventTimeBound.violation(-1, NOW, EventTimeBound.NONE)).isNotNull();
  }

  @Test
  void aNegativeBoundIsRefusedByItsKey() {
    assertThatThrownBy(() -> new EventTimeBound(-1))
        .hasMessage("max.ahead.of.clock.ms must be at least 0, got -1");
  }

  /**
   * 500 records stamped a day ahead and 500 in the present, interleaved, within a second: the
   * present ones are taken, each of the others counted, and only the first {@value SkipLog#FIRST}
   * logged.
   */
  @Test
  void refusedRecordsAreCountedAndLoggedAtALimitedRate() {
    EventTimeBound times = new EventTimeBound(30_000);
    Counter[] counter = new Counter[1];
    UnregisteredMetricsGroup metrics =
        new UnregisteredMetricsGroup() {
          @Override
          public Counter counter(String name) {
            assertThat(name).isEqualTo("drift.records.implausible.time");
            counter[0] = new SimpleCounter();
            return counter[0];
          }
        };
    long[] nanos = {0};
    times.open(metrics, logger, "interaction", () -> NOW, () -> nanos[0]);
    List<Long> taken = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      nanos[0] += 1_000_000L;
      long t = i % 2 == 0 ? NOW - i : NOW + DAY;
      if (times.admits(new ConsumerRecord<>("interactions", 0, i, null, null), t)) {
        taken.add((long) i);
      }
    }
    assertThat(taken).hasSize(500).allMatch(i -> i % 2 == 0);
    assertThat(counter[0].getCount()).isEqualTo(500);
    List<String> warnings =
        appender.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(warnings).hasSize(SkipLog.FIRST);
    assertThat(warnings.get(0))
        .isEqualTo(
            "drift: skipping implausibly timed interaction interactions-0@1: event time"
                + " 2026-01-02T00:00:00Z is more than 30000 ms (max.ahead.of.clock.ms) ahead of"
                + " the clock 2026-01-01T00:00:00Z");
    assertThat(warnings.get(SkipLog.FIRST - 1))
        .endsWith(
            " (further ones are counted in drift.records.implausible.time and logged once a"
                + " minute)");
  }
}
