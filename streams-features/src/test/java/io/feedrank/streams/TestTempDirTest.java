package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.internals.StateDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams warns at every start about a state.dir inside {@code java.io.tmpdir}, which the OS
 * may clear. The tests' temp dir is target/tmp, not target/ itself, so state they keep under
 * target/ on purpose (as {@link FeaturesHarness} does) is not taken for temporary; and their
 * {@code @TempDir}s for state come from {@link StateDirFactory}, outside it too.
 */
class TestTempDirTest {
  @Test
  void stateKeptUnderTargetIsNotTakenForTheTempDir() throws IOException {
    Path stateDir = Path.of("target", "streams-state-" + System.nanoTime()).toAbsolutePath();
    try {
      assertThat(warningsOfAStartIn(stateDir)).noneMatch(m -> m.contains("OS temp directory"));
    } finally {
      delete(stateDir);
    }
  }

  @Test
  void aTestsStateDirIsNotTakenForTheTempDir(
      @TempDir(factory = StateDirFactory.class) Path stateDir) {
    assertThat(warningsOfAStartIn(stateDir)).noneMatch(m -> m.contains("OS temp directory"));
  }

  /** What Streams' state directory logs when a topology with a store starts in {@code stateDir}. */
  private static List<String> warningsOfAStartIn(Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    // a persistent store: only then does Streams open (and check) its state directory
    builder.table("t", Consumed.with(Serdes.String(), Serdes.String()), Materialized.as("s"));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test-temp-dir-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    Logger logger = (Logger) LoggerFactory.getLogger(StateDirectory.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      assertThat(driver.getKeyValueStore("s")).isNotNull();
    } finally {
      logger.detachAppender(logs);
    }
    return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  private static void delete(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> paths = Files.walk(dir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
