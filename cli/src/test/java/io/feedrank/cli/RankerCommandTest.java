package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank ranker}'s configuration from a file, keys and options, in that order. */
class RankerCommandTest {
  @TempDir Path dir;

  Map<String, String> config(String... args) {
    RankerCommand cmd = new RankerCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.config(TestEnvironment.of(dir));
  }

  @Test
  void rankerConfigKeysWinOverTheFileAndNamedOptionsOverBoth() throws Exception {
    Path file = dir.resolve("ranker.properties");
    Files.writeString(file, "rate.limit.per.second=10\nport=7000\nlog.sample.rate=0.5\n");
    Map<String, String> c =
        config(
            "--config", file.toString(),
            "--ranker-config", "rate.limit.per.second=5000",
            "--ranker-config", "port=7100",
            "--port", "7200");
    assertThat(c)
        .containsEntry("rate.limit.per.second", "5000")
        .containsEntry("port", "7200")
        .containsEntry("log.sample.rate", "0.5")
        .containsEntry("redis.uri", "redis://127.0.0.1:6379")
        .containsEntry("bootstrap.servers", "127.0.0.1:9092");
    // and the ranker's own parsing takes them
    assertThat(io.feedrank.ranker.RankerConfig.from(c).rateLimitPerSecond()).isEqualTo(5000.0);
  }

  /**
   * An endpoint given as a --ranker-config key is an endpoint given, under --redis-uri and its
   * like: the named options win over the keys for endpoints too.
   */
  @Test
  void endpointKeysOfRankerConfigAreUnderTheNamedOptions() {
    RankerCommand cmd = new RankerCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--ranker-config", "bootstrap.servers=from-key:9092",
            "--ranker-config", "schema.registry.url=http://from-key:8081",
            "--ranker-config", "redis.uri=redis://from-key:6379",
            "--registry-url", "http://from-option:8081");
    // no environment and no running up: the keys alone are enough
    Map<String, String> c = cmd.config(Map.of("FEEDRANK_HOME", dir.toString()));
    assertThat(c)
        .containsEntry("bootstrap.servers", "from-key:9092")
        .containsEntry("schema.registry.url", "http://from-option:8081")
        .containsEntry("redis.uri", "redis://from-key:6379");
  }
}
