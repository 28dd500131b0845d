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
}
