package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A topic full of bad records does not write a warning per record: the first {@value SkipLog#FIRST}
 * are logged each, then one line a minute says how many more were skipped; every one is counted all
 * the same.
 */
class SkipLogTest {
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final List<Logger> loggers = new ArrayList<>();

  @BeforeEach
  void capture() {
    appender.start();
    for (Class<?> c : List.of(SkipLog.class, ExampleFeatures.class, EngagedImpressions.class)) {
      Logger l = (Logger) LoggerFactory.getLogger(c);
      l.addAppender(appender);
      loggers.add(l);
    }
  }

  @AfterEach
  void release() {
    loggers.forEach(l -> l.detachAppender(appender));
  }

  private List<String> warnings() {
    return appender.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void logsTheFirstOnesThenACountAtMostOnceAMinute() {
    long[] now = {0};
    SkipLog skips =
        new SkipLog((Logger) LoggerFactory.getLogger(SkipLog.class), "example", () -> now[0]);
    for (int i = 0; i < 1_000; i++) {
      now[0] += 1_000_000L; // 1,000 records a second for a second
      skips.skipped(record(i), "bad " + i);
    }
    assertThat(warnings()).hasSize(SkipLog.FIRST);
    assertThat(warnings().get(0)).isEqualTo("drift: skipping undecodable example t-0@0: bad 0");
    assertThat(warnings().get(SkipLog.FIRST - 1)).contains("logged once a minute");

    now[0] += SkipLog.EVERY_NANOS; // a minute later, one more: a line for the 991 since
    skips.skipped(record(1_000), "bad 1000");
    assertThat(warnings()).hasSize(SkipLog.FIRST + 1);
    assertThat(warnings().get(SkipLog.FIRST))
        .isEqualTo(
            "drift: skipped 991 more undecodable examples since the last warning (1001 in all),"
                + " the latest t-0@1000: bad 1000");
    now[0] += 1_000_000L;
    skips.skipped(record(1_001), "bad 1001");
    assertThat(warnings()).hasSize(SkipLog.FIRST + 1);
  }

  /** The sources themselves: 500 undecodable records, each counted, 10 lines logged. */
  @Test
  void theSourcesLimitTheirWarnings() throws Exception {
    java.util.Map<String, String> registry =
        java.util.Map.of(io.feedrank.avro.registry.RegistryConfig.URL, "http://127.0.0.1:1");
    for (org.apache.flink.connector.kafka.source.reader.deserializer
                .KafkaRecordDeserializationSchema<
            ?>
        source :
            List.of(
                new ExampleFeatures(registry, null, UnreadableRecordsTest.ANY_TIME),
                new EngagedImpressions(registry, UnreadableRecordsTest.ANY_TIME))) {
      appender.list.clear();
      UnreadableRecordsTest.CountingGroup metrics = new UnreadableRecordsTest.CountingGroup();
      source.open(UnreadableRecordsTest.context(metrics));
      for (int i = 0; i < 500; i++) {
        deserialize(source, record(i));
      }
      assertThat(metrics.undecodable()).isEqualTo(500);
      assertThat(warnings()).hasSize(SkipLog.FIRST);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> void deserialize(
      org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema<
              T>
          source,
      ConsumerRecord<byte[], byte[]> r)
      throws Exception {
    source.deserialize(
        r,
        new Collector<T>() {
          @Override
          public void collect(T t) {}

          @Override
          public void close() {}
        });
  }

  private static ConsumerRecord<byte[], byte[]> record(long offset) {
    return new ConsumerRecord<>("t", 0, offset, null, "not avro".getBytes());
  }
}
