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

  @Test
  void archiveNeedsAVersionAndTakesNoPruneOption() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "archive")).isEqualTo(2);
    assertThat(err.toString()).contains("registry archive needs a version (see registry list)");

    err = new StringWriter();
    assertThat(run(err, "archive", "s1", "--keep-archived", "1")).isEqualTo(2);
    assertThat(err.toString()).contains("options of registry prune, not archive");

    err = new StringWriter();
    assertThat(run(err, "retire", "s1")).isEqualTo(2);
    assertThat(err.toString())
        .contains("unknown action 'retire': list, show, promote, rollback, archive or prune");
  }

  @Test
  void showNeedsAVersionAndTheReasonIsForDecisionsOnly() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "show")).isEqualTo(2);
    assertThat(err.toString()).contains("registry show needs a version (see registry list)");

    err = new StringWriter();
    assertThat(run(err, "prune", "--reason", "full disk")).isEqualTo(2);
    assertThat(err.toString())
        .contains("--reason is an option of registry promote, rollback and archive, not prune");

    err = new StringWriter();
    assertThat(run(err, "promote", "v1", "--reason", " ")).isEqualTo(2);
    assertThat(err.toString()).contains("--reason is empty");
  }

  @Test
  void pruneTakesNoVersionNorANegativeCountAndItsOptionsAreItsOwn() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "prune", "v5")).isEqualTo(2);
    assertThat(err.toString()).contains("registry prune takes no version");

    err = new StringWriter();
    assertThat(run(err, "prune", "--keep-archived", "-1")).isEqualTo(2);
    assertThat(err.toString()).contains("--keep-archived must be ≥ 0, was -1");

    err = new StringWriter();
    assertThat(run(err, "prune", "--grace-hours", "-2")).isEqualTo(2);
    assertThat(err.toString()).contains("--grace-hours must be ≥ 0, was -2");

    err = new StringWriter();
    assertThat(run(err, "list", "--dry-run")).isEqualTo(2);
    assertThat(err.toString()).contains("options of registry prune, not list");
  }
}
