package io.feedrank.loadtest.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.loadtest.scenarios.RankScenarios;
import io.gatling.javaapi.core.Assertion;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A load test's settings: the target when none is given, where the API key comes from, and what is
 * refused at the start.
 */
class LoadConfigTest {
  @TempDir Path dir;

  @Test
  void theApiKeyComesFromTheEnvironmentOrAFileNeverFromAProperty() throws Exception {
    Path file = dir.resolve("key");
    Files.writeString(file, "\n  from-file  \nsecond line\n");
    assertThat(LoadConfig.apiKey(Map.of(LoadConfig.API_KEY_ENV, "from-env"), file.toString()))
        .isEqualTo("from-env");
    assertThat(LoadConfig.apiKey(Map.of(), file.toString())).isEqualTo("from-file");
    assertThat(LoadConfig.apiKey(Map.of(), null)).isEmpty();
    Files.writeString(file, "\n");
    assertThatThrownBy(() -> LoadConfig.apiKey(Map.of(), file.toString()))
        .hasMessageContaining("is empty");
    System.setProperty("api.key", "on-the-command-line");
    try {
      assertThatThrownBy(() -> LoadConfig.apiKey(Map.of(LoadConfig.API_KEY_ENV, "x"), null))
          .hasMessageContaining(LoadConfig.API_KEY_ENV);
    } finally {
      System.clearProperty("api.key");
    }
  }

  /**
   * Without a target given, the ranker of the running ./feedrank up of the checkout: it took a
   * random port if 8080 was taken, and a load test of 8080 then measured whatever listened there. A
   * stack.properties left by an up that is gone (its lock free) is not taken; a target given always
   * is.
   */
  @Test
  void theDefaultTargetIsTheRankerOfTheRunningUp() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", dir.toString());
    Path state = Files.createDirectories(dir.resolve(".feedrank"));
    assertThat(LoadConfig.target(null, env)).isEqualTo("http://localhost:8080"); // no up ran
    Files.writeString(
        state.resolve("stack.properties"),
        "ranker.url=http\\://127.0.0.1\\:41234\npid=" + ProcessHandle.current().pid() + "\n");
    try (FileChannel channel =
            FileChannel.open(
                state.resolve("up.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock up = channel.lock()) {
      assertThat(LoadConfig.target(null, env)).isEqualTo("http://127.0.0.1:41234");
      assertThat(LoadConfig.target("http://ranker.internal:8080", env))
          .isEqualTo("http://ranker.internal:8080");
    }
    // the up is gone (killed: no hook withdrew its announcement), and its pid may be anyone's
    assertThat(LoadConfig.target(null, env)).isEqualTo("http://localhost:8080");
  }

  @Test
  void settingsOutOfRangeAreRefusedAtTheStart() {
    assertThat(config(100, 10, 2000, 60).candidates()).isEqualTo(100);
    // the feeder draws distinct candidates, at most half the items
    assertThat(config(1000, 10, 2000, 60).candidates()).isEqualTo(1000);
    assertThatThrownBy(() -> config(1000, 10, 1999, 60))
        .hasMessageContaining("at most half the items (1999)");
    assertThatThrownBy(() -> config(100, 0, 2000, 60)).hasMessageContaining("top.k must be >= 1");
    assertThatThrownBy(() -> config(100, 10, 2000, 0))
        .hasMessageContaining("duration must be > 0 seconds");
    assertThatThrownBy(() -> config(100, 10, 2000, 60, -1))
        .hasMessageContaining("assert.p99.ms must be >= 0");
  }

  /**
   * A property that is not a number is refused naming it: Integer.getInteger and Long.getLong take
   * their default for one, so --duration 5m ran 60 s and --assert-p99-ms 20ms asserted 50.
   */
  @Test
  void aPropertyThatIsNotANumberIsRefusedNotReplacedByTheDefault() {
    Map<String, String> bad =
        Map.of(
            "duration", "5m",
            "assert.p99.ms", "20ms",
            "rate", "abc",
            "spike.factor", "Infinity",
            "candidates", "99999999999");
    for (var e : bad.entrySet()) {
      System.setProperty(e.getKey(), e.getValue());
      try {
        assertThatThrownBy(LoadConfig::fromSystemProperties)
            .as(e.getKey())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith(e.getKey() + " ");
      } finally {
        System.clearProperty(e.getKey());
      }
    }
    System.setProperty("duration", "300");
    System.setProperty("seed", "9007199254740993"); // 2^53 + 1: no double holds it
    try {
      LoadConfig c = LoadConfig.fromSystemProperties();
      assertThat(c.duration()).isEqualTo(Duration.ofMinutes(5));
      assertThat(c.seed()).isEqualTo(9007199254740993L);
    } finally {
      System.clearProperty("duration");
      System.clearProperty("seed");
    }
    for (String[] range :
        new String[][] {
          {"assert.error.percent", "150"}, {"spike.factor", "0.5"}, {"max.rate", "0"}
        }) {
      System.setProperty(range[0], range[1]);
      try {
        assertThatThrownBy(LoadConfig::fromSystemProperties)
            .as(range[0])
            .hasMessageStartingWith(range[0] + " must be");
      } finally {
        System.clearProperty(range[0]);
      }
    }
  }

  @Test
  void aP99BoundOfZeroLeavesOnlyTheErrorBound() {
    // Gatling's Java assertions wrap Scala case classes, which compare by value
    assertThat(RankScenarios.assertions(config(100, 10, 2000, 60, 50)))
        .extracting(Assertion::asScala)
        .hasSize(2)
        .element(1)
        .isEqualTo(RankScenarios.errorBound(config(100, 10, 2000, 60, 50)).asScala());
    assertThat(RankScenarios.assertions(config(100, 10, 2000, 60, 0)))
        .extracting(Assertion::asScala)
        .containsExactly(RankScenarios.errorBound(config(100, 10, 2000, 60, 0)).asScala());
  }

  private static LoadConfig config(int candidates, int topK, int items, long seconds) {
    return config(candidates, topK, items, seconds, 50);
  }

  private static LoadConfig config(
      int candidates, int topK, int items, long seconds, int p99Millis) {
    return new LoadConfig(
        "http://localhost:8080",
        "",
        candidates,
        topK,
        100,
        2000,
        Duration.ofSeconds(seconds),
        Duration.ofSeconds(120),
        10,
        Duration.ofSeconds(3600),
        Duration.ofSeconds(10),
        p99Millis,
        0,
        1000,
        items,
        1);
  }
}
