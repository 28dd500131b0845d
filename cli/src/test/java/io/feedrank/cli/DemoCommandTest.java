package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A demo's settings and directory are checked before anything starts: a usage error (exit 2, naming
 * the option) instead of a first phase that fails after the platform began to start and replaces
 * the previous run's report, or deletes what is in its directory.
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

  /**
   * The demo deletes an earlier run's stack/, streams-state/, artifacts/ and flink-checkpoints/ in
   * its directory as it starts: a --dir that is not a demo's (target/, whose artifacts/ is train's
   * and the ranker's default store) is a usage error, before anything is deleted or started.
   */
  @Test
  void aDirectoryThatIsNotADemosIsRefusedAndNothingInItIsDeleted() throws Exception {
    Path keep = dir.resolve("artifacts").resolve("keep.txt");
    Files.createDirectories(keep.getParent());
    Files.writeString(keep, "a run of ./feedrank train");
    StringWriter err = new StringWriter();
    assertThat(run(err, shortDemo(dir))).isEqualTo(2);
    assertThat(err.toString())
        .contains("--dir " + dir + " is not empty and not a demo's directory");
    assertThat(keep).hasContent("a run of ./feedrank train");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("artifacts");
    }
  }

  /**
   * The default target/demo of an earlier run stays the demo's: known by the marker, or, written by
   * a demo from before it, by the log or report.
   */
  @Test
  void aPreviousDemosDirectoryIsTheDemos() throws Exception {
    assertThat(DemoCommand.newOrADemos(dir.resolve("new"))).isTrue();
    assertThat(DemoCommand.newOrADemos(dir)).isTrue(); // empty
    Files.createDirectories(dir.resolve("artifacts"));
    assertThat(DemoCommand.newOrADemos(dir)).isFalse();
    for (String demos : new String[] {DemoCommand.MARKER, "demo.log", "report.json"}) {
      Files.writeString(dir.resolve(demos), "");
      assertThat(DemoCommand.newOrADemos(dir)).as(demos).isTrue();
      Files.delete(dir.resolve(demos));
    }
  }

  /**
   * A second demo on the directory a demo runs in is refused, naming the first, before it deletes
   * the first one's Kafka log and state under it. The first is another process here, holding the
   * directory's lock as a demo does.
   */
  @Test
  void aDirectoryAnotherDemoRunsInIsRefused() throws Exception {
    Path keep = dir.resolve("artifacts").resolve("keep.txt");
    Files.createDirectories(keep.getParent());
    Files.writeString(keep, "the running demo's model");
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process first =
        new ProcessBuilder(
                java,
                "-cp",
                classpath,
                LockHolder.class.getName(),
                dir.resolve(DemoCommand.MARKER).toString())
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader said =
          new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
      assertThat(CompletableFuture.supplyAsync(() -> readLine(said)).get(60, TimeUnit.SECONDS))
          .isEqualTo("locked");
      StringWriter err = new StringWriter();
      assertThat(run(err, shortDemo(dir))).isEqualTo(2);
      assertThat(err.toString())
          .contains(
              "--dir "
                  + dir
                  + " is in use by another ./feedrank demo (pid "
                  + first.pid()
                  + "): give another --dir, or wait for it to end");
      assertThat(keep).hasContent("the running demo's model");
    } finally {
      first.destroyForcibly();
      first.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** The shortest demo, were it to start. */
  private static String[] shortDemo(Path dir) {
    return new String[] {
      "--dir", dir.toString(), "--history", "20000", "--serving-seconds", "1", "--max-epochs", "1"
    };
  }

  private static String readLine(BufferedReader r) {
    try {
      return r.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
