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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank up}'s refusals, before anything starts, and a stop during its start. */
class UpCommandTest {
  @TempDir Path dir;

  /**
   * A --dir with something in it (a previous up's kept state) is refused with a usage error: Kafka
   * would refuse its formatted log, and the registry's schemas are gone with the old process.
   */
  @Test
  void aDirectoryThatIsNotEmptyIsRefused() throws Exception {
    Files.createDirectories(dir.resolve("stack"));
    for (String mode : new String[] {"--stack-only", "--seed=1"}) {
      StringWriter err = new StringWriter();
      CommandLine cli = new CommandLine(new UpCommand());
      cli.setErr(new PrintWriter(err));
      assertThat(cli.execute("--dir", dir.toString(), mode)).isEqualTo(2);
      assertThat(err.toString()).contains("--dir " + dir + " is not empty");
    }
  }

  /**
   * Ctrl-C (a SIGTERM here) while up starts interrupts the start, which stops at once (a training
   * run stops only on an interrupt) and says so; up's hook then deletes its state directory. Not
   * interrupted, the start ran on for up to a minute while the hook waited, then the JVM halted.
   */
  @Test
  void aShutdownDuringTheStartInterruptsIt() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ProcessBuilder b =
        new ProcessBuilder(java, "-cp", classpath, UpWithABlockedStart.class.getName())
            .redirectErrorStream(true);
    b.environment().put("FEEDRANK_HOME", dir.toString());
    Process up = b.start();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
      List<String> said = new ArrayList<>();
      CompletableFuture.runAsync(() -> readUntil(out, said, "starting")).get(120, TimeUnit.SECONDS);
      up.toHandle().destroy(); // SIGTERM, the hooks run as at Ctrl-C; its output stays open
      CompletableFuture.runAsync(() -> readUntil(out, said, null)).get(120, TimeUnit.SECONDS);
      assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(said)
          .contains("start interrupted", "feedrank up: stopped before the platform was up");
      assertThat(dir.resolve("target").resolve("up-" + up.pid())).doesNotExist();
    } finally {
      up.destroyForcibly();
      up.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * The restart a stopped part's message asks for keeps the log that says why it stopped: the log
   * was truncated at every start. Each line has its date (a log spans days and runs).
   */
  @Test
  void aRestartKeepsThePreviousLogAndItsLinesAreDated() throws Exception {
    Path log = dir.resolve("target").resolve("up.log");
    Files.createDirectories(log.getParent());
    Files.writeString(log, "the previous up's last words\n");
    assertThat(upWithAFailingStart()).isEqualTo(1);
    String kept = Files.readString(log);
    if (Files.exists(Path.of(log + ".1"))) {
      kept = Files.readString(Path.of(log + ".1")) + kept;
    }
    assertThat(kept).contains("the previous up's last words");
    assertThat(Files.readString(log))
        .containsPattern(
            "(?m)^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) ERROR .*"
                + " - the start fails at once$");
  }

  /** With --dir, the log is kept there with the rest of the state to look into. */
  @Test
  void withADirTheLogIsInIt() throws Exception {
    Path state = dir.resolve("state");
    assertThat(upWithAFailingStart("--dir", state.toString())).isEqualTo(1);
    assertThat(state.resolve("up.log")).content().contains("the start fails at once");
    assertThat(dir.resolve("target").resolve("up.log")).doesNotExist();
  }

  /** Runs {@link UpWithAFailingStart} with {@code args} in a JVM of its own; its exit code. */
  private int upWithAFailingStart(String... args) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command =
        new ArrayList<>(List.of(java, "-cp", classpath, UpWithAFailingStart.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("up-console.txt").toFile());
    b.environment().put("FEEDRANK_HOME", dir.toString());
    Process up = b.start();
    try {
      assertThat(up.waitFor(120, TimeUnit.SECONDS)).isTrue();
      return up.exitValue();
    } finally {
      up.destroyForcibly();
      up.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Adds the lines read to {@code said} until {@code last} (null: the end of the output). */
  private static void readUntil(BufferedReader r, List<String> said, String last) {
    try {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        said.add(line);
        if (line.equals(last)) {
          return;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
