package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code ./feedrank registry}'s usage errors: exit code 2 and a message naming what is wrong,
 * before any connection is made (no stack here to connect to).
 */
class RegistryCommandTest {
  static int run(StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new RegistryCommand());
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void aVersionForRollbackOrListAnUnknownActionOrAPromotionWithoutVersionAreUsageErrors() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "rollback", "v5")).isEqualTo(2);
    assertThat(err.toString())
        .contains("registry rollback takes no version")
        .contains("registry promote v5");

    err = new StringWriter();
    assertThat(run(err, "list", "extra")).isEqualTo(2);
    assertThat(err.toString()).contains("registry list takes no version");

    err = new StringWriter();
    assertThat(run(err, "promote")).isEqualTo(2);
    assertThat(err.toString()).contains("registry promote needs a version");

    err = new StringWriter();
    assertThat(run(err, "demote", "v1")).isEqualTo(2);
    assertThat(err.toString()).contains("unknown action 'demote'");
  }
}
