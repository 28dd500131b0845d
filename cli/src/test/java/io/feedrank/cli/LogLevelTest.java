package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code FEEDRANK_LOG_LEVEL} is checked before anything logs: logback read an unknown value
 * ("WARNING", "quiet") as DEBUG, silently. Each case runs {@code io.feedrank.cli.Main} in a JVM of
 * its own, as the launcher and the image do: the check is in {@code main}, before logback starts.
 */
class LogLevelTest {
  @TempDir Path dir;

  record Exit(int code, String out, String err) {}

  Exit feedrank(String level, String... args) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    List<String> command = new ArrayList<>(List.of(java, "-cp", classpath, Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    b.environment().put("FEEDRANK_LOG_LEVEL", level);
    b.environment().put("FEEDRANK_HOME", dir.toString());
    Process p = b.start();
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      return new Exit(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLevelLogbackDoesNotKnowIsRefusedBeforeTheCommandRuns() throws Exception {
    for (String level : new String[] {"WARNING", "quiet"}) {
      Exit e = feedrank(level, "--version");
      assertThat(e.code()).as(level).isEqualTo(2);
      assertThat(e.out()).as(level).isEmpty();
      assertThat(e.err())
          .as(level)
          .startsWith("feedrank: FEEDRANK_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR")
          .contains("got '" + level + "'");
    }
  }

  @Test
  void anyCaseBlanksAroundAndEmptyAreLevels() throws Exception {
    for (String level : new String[] {" warn ", "debug", ""}) {
      Exit e = feedrank(level, "--version");
      assertThat(e.code()).as("'" + level + "'").isZero();
      assertThat(e.out()).as("'" + level + "'").startsWith("feedrank 0.1.0-SNAPSHOT");
    }
  }
}
