package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank runs list} over a real artifact store directory. */
class RunsCommandTest {
  @TempDir Path dir;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void anEmptyStoreSaysWhereItLookedInsteadOfABareHeader() {
    assertThat(run("runs", "list", "--artifact-store", dir.toString())).isZero();
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString())
        .contains("no training runs under " + dir.toAbsolutePath())
        .doesNotContain("no such directory");
  }

  /**
   * A store named that is not there is refused (a path mistyped, a volume not mounted), not shown
   * as a store without runs, exit 0.
   */
  @Test
  void aMissingStoreNamedIsRefused() {
    Path missing = dir.resolve("nowhere");
    assertThat(run("runs", "list", "--artifact-store", missing.toString())).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("--artifact-store " + missing + ": no such directory")
        .doesNotContain("no training runs");
    assertThat(out.toString()).isEmpty();
  }

  /** The store in the forms train, ranker and registry take: a path or a file: URI. */
  @Test
  void aFileUriNamesTheStoreAsForTheTrainer() {
    record("20261205-120000-abcd");
    assertThat(run("runs", "list", "--artifact-store", dir.toUri().toString())).isZero();
    assertThat(out.toString()).contains("20261205-120000-abcd");
    assertThat(
            run("runs", "show", "20261205-120000-abcd", "--artifact-store", dir.toUri().toString()))
        .isZero();
    assertThat(err.toString()).isEmpty();
    assertThat(run("runs", "list", "--artifact-store", "s3://bucket/artifacts")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("--artifact-store: artifact store 's3://bucket/artifacts'");
  }

  private void record(String id) {
    RunRecord r = new RunRecord();
    r.id = id;
    r.status = "SUCCEEDED";
    r.startedAt = "2026-12-05T12:00:00Z";
    new FileRunStore(new FileArtifactStore(dir)).save(r);
  }

  @Test
  void aRecordedRunIsListed() {
    RunRecord r = new RunRecord();
    r.id = "20261205-120000-abcd";
    r.status = "SUCCEEDED";
    r.startedAt = "2026-12-05T12:00:00Z";
    r.counts.put("examples", 1234L);
    RunRecord.ModelRun m = new RunRecord.ModelRun();
    m.architecture = "mlp";
    m.metrics.put("auc", 0.8105);
    m.version = "20261205-120000-abcd-mlp";
    m.stage = "STAGING";
    r.models.add(m);
    new FileRunStore(new FileArtifactStore(dir)).save(r);

    assertThat(run("runs", "list", "--artifact-store", dir.toString())).isZero();
    assertThat(out.toString()).contains("RUN").contains("20261205-120000-abcd").contains("1234");
    // the stage the registry gave it then, said as such: it may be ARCHIVED by now
    assertThat(out.toString()).contains("mlp AUC 0.8105 (decided STAGING)");
    assertThat(err.toString()).isEmpty();
  }
}
