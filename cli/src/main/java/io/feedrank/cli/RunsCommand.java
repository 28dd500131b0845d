package io.feedrank.cli;

import io.feedrank.models.ArtifactStore;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./feedrank runs list | show ID}: the training runs recorded in the artifact store. */
@Command(
    name = "runs",
    mixinStandardHelpOptions = true,
    description = "List training runs, or show one run's run.json.")
final class RunsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", description = "list or show")
  String action;

  @Parameters(index = "1", arity = "0..1", description = "run id (for show)")
  String runId;

  @Option(
      names = "--artifact-store",
      description =
          "directory or file: URI the trainer writes runs to (default: the store of a running"
              + " ./feedrank up's platform, else target/artifacts)")
  String store;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Path root = root(store != null ? store : defaultStore(System.getenv()));
    // a store named and not there is a mistake (a path mistyped, a volume not mounted), not a store
    // without runs; the default one is absent until the first training run
    if (store != null && !Files.isDirectory(root)) {
      throw new ParameterException(
          spec.commandLine(), "--artifact-store " + store + ": no such directory");
    }
    FileRunStore runs = new FileRunStore(new FileArtifactStore(root));
    switch (action) {
      case "list" -> {
        List<RunRecord> all = runs.list();
        if (all.isEmpty()) {
          spec.commandLine()
              .getErr()
              .println(
                  "no training runs under "
                      + root.toAbsolutePath().normalize()
                      + (Files.isDirectory(root) ? "" : " (no such directory)")
                      + "; --artifact-store names another");
          return 0;
        }
        out.printf("%-26s %-10s %-22s %9s  %s%n", "RUN", "STATUS", "STARTED", "EXAMPLES", "MODELS");
        for (RunRecord r : all) {
          StringBuilder models = new StringBuilder();
          for (RunRecord.ModelRun m : r.models) {
            models.append(
                String.format(
                    "%s AUC %.4f%s  ",
                    m.architecture,
                    m.metrics.getOrDefault("auc", Double.NaN),
                    // the registry's decision when the run ended; registry list has the stages now
                    m.stage == null ? "" : " (decided " + m.stage + ")"));
          }
          out.printf(
              "%-26s %-10s %-22s %9s  %s%n",
              r.id,
              r.status,
              r.startedAt.substring(0, Math.min(19, r.startedAt.length())),
              r.counts.getOrDefault("examples", 0L),
              r.error != null ? r.error : models.toString().trim());
        }
        return 0;
      }
      case "show" -> {
        if (runId == null) {
          throw new ParameterException(
              spec.commandLine(), "runs show needs a run id (see runs list)");
        }
        RunRecord r =
            runs.get(runId)
                .orElseThrow(
                    () -> new IllegalArgumentException("no run '" + runId + "' under " + root));
        out.println(FileRunStore.toJson(r));
        return 0;
      }
      default ->
          throw new ParameterException(
              spec.commandLine(), "unknown action '" + action + "': list or show");
    }
  }

  /**
   * The directory of a store {@code location}, in the forms {@code train}, {@code ranker} and
   * {@code registry} take ({@link ArtifactStore#forLocation}): a path or a {@code file:} URI (as a
   * path, {@code file:///data/artifacts} was read as {@code ./file:/data/artifacts}).
   */
  private Path root(String location) {
    ArtifactStore s =
        ServiceConfig.refusing(
            spec,
            () -> {
              try {
                return ArtifactStore.forLocation(location);
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--artifact-store: " + e.getMessage(), e);
              }
            });
    return ((FileArtifactStore) s).root();
  }

  /** The store of a running {@code ./feedrank up}'s platform, else target/artifacts. */
  static String defaultStore(Map<String, String> env) {
    return Endpoints.upArtifactStore(env)
        .orElseGet(
            () ->
                Path.of(env.getOrDefault("FEEDRANK_HOME", "."), "target", "artifacts").toString());
  }

  /** A run's outcome in a few lines. */
  static void printRun(PrintWriter out, RunRecord r) {
    out.printf(
        "run %s %s: %d examples of [%s, %s)%n",
        r.id, r.status, r.counts.getOrDefault("examples", 0L), r.dataFrom, r.dataTo);
    r.baselines.forEach((name, m) -> out.printf("  baseline %-10s AUC %.4f%n", name, m.get("auc")));
    for (RunRecord.ModelRun m : r.models) {
      out.printf(
          "  %-10s AUC %.4f  log loss %.4f  P@10 %.4f  NDCG@10 %.4f  %,.0f examples/s  export max|Δ| %.1e%s%n",
          m.architecture,
          m.metrics.get("auc"),
          m.metrics.get("logloss"),
          m.metrics.get("p_at_10"),
          m.metrics.get("ndcg_at_10"),
          m.examplesPerSecond,
          ((Number) m.export.getOrDefault("max_abs_diff", Double.NaN)).doubleValue(),
          m.version == null
              ? ""
              : "\n    " + m.version + " → " + m.stage + ": " + m.decisionReason);
    }
    out.flush();
  }
}
