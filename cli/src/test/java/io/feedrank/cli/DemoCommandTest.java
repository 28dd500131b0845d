package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A demo's settings are checked before anything starts: a usage error (exit 2, naming the option)
 * instead of a first phase that fails after the platform began to start and replaces the previous
 * run's report.
 */
class DemoCommandTest {
  @TempDir Path dir;

  int run(StringWriter err, String... args) {
    CommandLine cl = new CommandLine(new DemoCommand());
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void aSettingOutOfRangeIsAUsageErrorAndNothingIsWritten() throws Exception {
    Path out = dir.resolve("demo");
    Files.createDirectories(out);
    Files.writeString(out.resolve("report.md"), "the previous run's report");
    String[][] cases = {
      {"--strength", "2", "--strength must be within (0, 1], got 2.0"},
      {"--scenario", "NONE", "--scenario must name a drift scenario, not NONE"},
      {"--history", "100", "--history must be at least 20,000 events"},
      {"--rate", "0", "--rate must be > 0, got 0.0"},
      {"--serving-seconds", "0", "--serving-seconds must be >= 1, got 0"},
      {"--max-epochs", "0", "--max-epochs must be >= 1, got 0"},
    };
    for (String[] c : cases) {
      StringWriter err = new StringWriter();
      assertThat(run(err, c[0], c[1], "--dir", out.toString())).as(c[0]).isEqualTo(2);
      assertThat(err.toString()).as(c[0]).contains(c[2]);
    }
    try (var files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("report.md");
    }
    assertThat(Files.readString(out.resolve("report.md"))).isEqualTo("the previous run's report");
  }
}
