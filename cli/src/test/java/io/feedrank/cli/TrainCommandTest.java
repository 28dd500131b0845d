package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.data.DataRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank train}'s configuration: the file's keys, then the named options. */
class TrainCommandTest {
  @TempDir Path dir;

  Map<String, String> config(String... args) {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.config(TestEnvironment.of(dir));
  }

  @Test
  void daysWinsOverTheFilesWindowAndRange() throws Exception {
    Instant now = Instant.parse("2026-12-06T00:00:00Z");
    Path window = dir.resolve("window.properties");
    Files.writeString(window, "data.window.ms=3600000\nmax.epochs=3\n");
    Path range = dir.resolve("range.properties");
    Files.writeString(
        range, "data.from=2026-01-01T00:00:00Z\ndata.to=2026-01-02T00:00:00Z\nmax.epochs=3\n");

    // the file alone: its window, its range
    assertThat(span(config("--config", window.toString()), now)).isEqualTo(Duration.ofHours(1));
    assertThat(span(config("--config", range.toString()), now)).isEqualTo(Duration.ofDays(1));

    // --days over either, the file's other keys kept
    for (Path file : new Path[] {window, range}) {
      Map<String, String> c = config("--config", file.toString(), "--days", "3");
      DataRange r = TrainerConfig.from(c).defaultRange(now);
      assertThat(r.to()).isEqualTo(now);
      assertThat(Duration.between(r.from(), r.to())).isEqualTo(Duration.ofDays(3));
      assertThat(TrainerConfig.from(c).hyper().maxEpochs()).isEqualTo(3);
    }
  }

  /** A run's trigger: manual unless named (the nightly CronJob names itself), a word. */
  @Test
  void aRunIsRecordedWithTheTriggerItIsGiven() {
    assertThat(parsed().trigger).isEqualTo("manual");
    assertThat(parsed("--trigger", "nightly").trigger).isEqualTo("nightly");
    assertThatThrownBy(() -> parsed("--trigger", "night ly"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining(
            "--trigger must be 1 to 64 letters, digits, '-' or '_', was 'night ly'");
    assertThatThrownBy(() -> parsed("--listen", "--trigger", "nightly"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("with --listen each run is recorded as its retrain command's");
  }

  /** The command as parsed and checked, as {@code call} checks it before anything is opened. */
  private TrainCommand parsed(String... args) {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs(args);
    cmd.checkRange();
    return cmd;
  }

  private static Duration span(Map<String, String> c, Instant now) {
    DataRange r = TrainerConfig.from(c).defaultRange(now);
    return Duration.between(r.from(), r.to());
  }
}
