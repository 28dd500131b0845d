package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank up}'s refusals, before anything starts. */
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
}
