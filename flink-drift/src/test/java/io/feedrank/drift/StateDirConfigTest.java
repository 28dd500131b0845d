package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A state directory's snapshots are restored only into a job of the same {@code model.name}, {@code
 * window.ms} and Kafka cluster; a start with other values is refused, naming each, and changes
 * nothing there. Without a snapshot any values start (and are stored); a snapshot from before the
 * values were stored is restored with a warning.
 */
class StateDirConfigTest {
  @TempDir Path dir;

  /** In {@link StateDirConfig#of}'s order, which the message follows. */
  static Map<String, String> values(String model, String windowMs, String cluster) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.name", model);
    m.put("window.ms", windowMs);
    m.put("kafka.cluster.id", cluster);
    return m;
  }

  /** A completed snapshot, as {@link LocalCheckpoints#newest} finds one. */
  private void snapshot() throws Exception {
    Path s = Files.createDirectories(dir.resolve("savepoints").resolve("savepoint-0a1b2c-000000"));
    Files.writeString(s.resolve("_metadata"), "");
  }

  @Test
  void aRestoreForAnotherModelIsRefusedNamingTheKeyBothValuesAndWhatToDo() throws Exception {
    StateDirConfig.check(dir, values("feed-rankr", "300000", "c1"));
    snapshot();
    String stored = Files.readString(dir.resolve(StateDirConfig.FILE));
    assertThatThrownBy(() -> StateDirConfig.check(dir, values("feed-ranker", "300000", "c1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "the state directory "
                + dir
                + " holds snapshots of a drift job with other settings (model.name 'feed-rankr'"
                + " there, 'feed-ranker' here).")
        .hasMessageContaining("another --state-dir")
        .hasMessageContaining("or delete " + dir + " to start afresh");
    assertThat(dir.resolve(StateDirConfig.FILE)).as("after a refusal").content().isEqualTo(stored);
    // the same values restore
    assertThatCode(() -> StateDirConfig.check(dir, values("feed-rankr", "300000", "c1")))
        .doesNotThrowAnyException();
  }

  /** A recreated Kafka (a fresh stack) and another window length are refused too, both named. */
  @Test
  void anotherKafkaClusterOrWindowLengthIsRefused() throws Exception {
    StateDirConfig.check(dir, values("m", "300000", "old-cluster"));
    snapshot();
    assertThatThrownBy(() -> StateDirConfig.check(dir, values("m", "60000", "new-cluster")))
        .hasMessageContaining(
            "(window.ms '300000' there, '60000' here; kafka.cluster.id 'old-cluster' there,"
                + " 'new-cluster' here)");
  }

  @Test
  void withoutASnapshotAnyValuesStartAndAreStoredForTheNextRestore() throws Exception {
    StateDirConfig.check(dir, values("a", "300000", "c1"));
    // a job that stopped before its first snapshot: nothing to restore, nothing to refuse
    assertThatCode(() -> StateDirConfig.check(dir, values("b", "300000", "c1")))
        .doesNotThrowAnyException();
    snapshot();
    assertThatThrownBy(() -> StateDirConfig.check(dir, values("a", "300000", "c1")))
        .hasMessageContaining("model.name 'b' there, 'a' here");
  }

  @Test
  void aSnapshotFromBeforeTheValuesWereStoredIsRestoredWithAWarning() throws Exception {
    snapshot();
    Logger logger = (Logger) LoggerFactory.getLogger(StateDirConfig.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      StateDirConfig.check(dir, values("m", "300000", "c1"));
    } finally {
      logger.detachAppender(logs);
    }
    List<String> warned =
        logs.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(warned)
        .singleElement()
        .asString()
        .contains("without checking", "model.name m", "window.ms 300000", StateDirConfig.FILE);
    // stored now: the next start is checked
    assertThatThrownBy(() -> StateDirConfig.check(dir, values("m", "300000", "c2")))
        .hasMessageContaining("kafka.cluster.id 'c1' there, 'c2' here");
  }

  /**
   * The online CTR's window length too: restored with another, the CTR operator's open windows and
   * its baseline of earlier windows are of the old length.
   */
  @Test
  void anotherCtrWindowLengthIsRefused() throws Exception {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    p.put("model.name", "m");
    StateDirConfig.check(dir, StateDirConfig.of(DriftConfig.from(p), "c1"));
    snapshot();
    p.put("ctr.window.ms", "600000");
    Map<String, String> longer = StateDirConfig.of(DriftConfig.from(p), "c1");
    assertThatThrownBy(() -> StateDirConfig.check(dir, longer))
        .hasMessageContaining("(ctr.window.ms '300000' there, '600000' here)");
  }

  @Test
  void theValuesAreTheModelTheWindowsAndTheCluster() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    p.put("model.name", "m");
    p.put("window.ms", "60000");
    DriftConfig c = DriftConfig.from(p);
    assertThat(StateDirConfig.of(c, "id-1"))
        .containsExactly(
            Map.entry("model.name", "m"),
            Map.entry("window.ms", "60000"),
            Map.entry("ctr.window.ms", "60000"),
            Map.entry("kafka.cluster.id", "id-1"));
    assertThat(StateDirConfig.of(c, null)).doesNotContainKey("kafka.cluster.id");
  }
}
