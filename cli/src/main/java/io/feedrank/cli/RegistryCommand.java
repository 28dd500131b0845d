package io.feedrank.cli;

import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.Main;
import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.prune.ArtifactPruner;
import io.feedrank.trainer.prune.Retention.StoredFile;
import io.feedrank.trainer.registry.RegistryCommands;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank registry list | show VERSION | promote VERSION | rollback | archive VERSION |
 * prune}: operate the model registry and its artifact store.
 */
@Command(
    name = "registry",
    mixinStandardHelpOptions = true,
    header = "List, promote, roll back or archive the model's versions; prune the artifact store.",
    description = {
      "list: every version of the model with its stage and decision.",
      "show VERSION: the version's whole record: training and holdout range, command, run,",
      "  artifacts and their sha256, metrics, comparison, decision (the profile summarised).",
      "promote VERSION: put VERSION in production (the current one is archived).",
      "rollback: production goes back to the version the current one replaced (to put another",
      "  archived version in production, promote it).",
      "archive VERSION: archive a STAGING version, which ends its A/B share, or a CANDIDATE one",
      "  (a production version is refused: promote another one or roll back).",
      "prune: delete the artifacts of versions no longer needed: all but those of production,",
      "  staging and candidate versions, of the version rollback goes back to and of the",
      "  --keep-archived newest archived ones; run records, files younger than --grace-hours and",
      "  runs in progress are kept. A pruned version can no longer be promoted.",
      "A prune, promote or rollback waits for the one under way on the same artifact store.",
      "--reason TEXT (promote, rollback, archive) is recorded in the decision reason, with the",
      "  OS user: 'promoted by operator alice: TEXT'.",
      "Promote and rollback also archive a staging version: its A/B share was measured against",
      "the production they replace."
    })
final class RegistryCommand implements Callable<Integer> {
  static final int DEFAULT_KEEP_ARCHIVED = 3;
  static final int DEFAULT_GRACE_HOURS = 24;

  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Parameters(index = "0", description = "list, show, promote, rollback, archive or prune")
  String action;

  @Parameters(index = "1", arity = "0..1", description = "version (for show, promote and archive)")
  String version;

  @Option(names = "--model-name", description = "registry model name (default feed-ranker)")
  String modelName;

  @Option(
      names = "--keep-archived",
      description = "prune: archived versions whose artifacts are kept, newest first (default 3)")
  Integer keepArchived;

  @Option(
      names = "--grace-hours",
      description =
          "prune: files modified within this many hours are kept (default 24); a RUNNING"
              + " run's files are kept for 24 hours after its record's last save, or this if"
              + " longer")
  Integer graceHours;

  @Option(names = "--dry-run", description = "prune: say what would be deleted, delete nothing")
  boolean dryRun;

  @Option(
      names = "--artifact-store",
      description =
          "prune: directory or file: URI the trainer writes runs and models to (default: a running"
              + " ./feedrank up's, else target/artifacts)")
  String artifactStore;

  @Option(
      names = "--reason",
      description =
          "promote, rollback, archive: why, recorded in the decision reason with the OS user")
  String reason;

  @Option(names = "--config", description = "properties file with any TrainerConfig key")
  Path configFile;

  @Override
  public Integer call() {
    // usage errors (exit code 2) before anything is opened
    switch (action) {
      case "list", "rollback", "prune" -> {
        if (version != null) {
          throw new ParameterException(
              spec.commandLine(),
              "registry "
                  + action
                  + " takes no version"
                  + ("rollback".equals(action)
                      ? ": it goes back to the version production replaced; to put "
                          + version
                          + " in production, use registry promote "
                          + version
                      : "prune".equals(action) ? ": it prunes by stage (see registry list)" : ""));
        }
      }
      case "show", "promote", "archive" -> {
        if (version == null) {
          throw new ParameterException(
              spec.commandLine(), "registry " + action + " needs a version (see registry list)");
        }
      }
      default ->
          throw new ParameterException(
              spec.commandLine(),
              "unknown action '" + action + "': list, show, promote, rollback, archive or prune");
    }
    if (!"prune".equals(action) && (keepArchived != null || graceHours != null || dryRun)) {
      throw new ParameterException(
          spec.commandLine(),
          "--keep-archived, --grace-hours and --dry-run are options of registry prune, not "
              + action);
    }
    if (reason != null && !List.of("promote", "rollback", "archive").contains(action)) {
      throw new ParameterException(
          spec.commandLine(),
          "--reason is an option of registry promote, rollback and archive, not " + action);
    }
    if (reason != null && reason.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--reason is empty");
    }
    if (keepArchived != null && keepArchived < 0) {
      throw new ParameterException(
          spec.commandLine(), "--keep-archived must be ≥ 0, was " + keepArchived);
    }
    if (graceHours != null && graceHours < 0) {
      throw new ParameterException(
          spec.commandLine(), "--grace-hours must be ≥ 0, was " + graceHours);
    }
    TrainerConfig config =
        ServiceConfig.refusing(spec, () -> TrainerConfig.from(config(System.getenv())));
    PrintWriter out = spec.commandLine().getOut();
    try (Main m = new Main(config, Clock.systemUTC())) {
      // a version whose artifacts were pruned is not put back in production, and a prune of
      // this store waits for a promotion or rollback (and they for it)
      RegistryCommands r =
          new RegistryCommands(
              m.registry(), config.modelName(), Clock.systemUTC(), m.artifacts().root());
      switch (action) {
        case "list" -> print(out, r.list());
        case "show" -> {
          ModelVersion v =
              r.list().stream()
                  .filter(x -> x.getVersion().equals(version))
                  .findFirst()
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              "no version " + version + " of " + config.modelName()));
          show(out, v);
        }
        case "promote" -> print(out, r.promote(version, "promoted " + byOperator()));
        case "archive" -> print(out, r.archive(version, "archived " + byOperator()));
        case "prune" -> {
          return prune(m, config, out);
        }
        default -> print(out, r.rollback(byOperator()));
      }
    }
    return 0;
  }

  /**
   * Who decided and why, for the decision reason: {@code by operator alice: CTR fell after the
   * release} (the OS user; the reason given with {@code --reason}, if any). The registry's topics
   * keep the latest record of each version, so this is what says who put it there.
   */
  String byOperator() {
    return "by operator "
        + System.getProperty("user.name", "unknown")
        + (reason == null ? "" : ": " + reason.strip());
  }

  /** Exit code 0 when every file to delete was deleted (or a dry run), 1 otherwise. */
  private int prune(Main m, TrainerConfig config, PrintWriter out) {
    ArtifactPruner.Result r;
    try {
      r =
          new ArtifactPruner(
                  m.artifacts(), m.runs(), m.registry(), config.modelName(), Clock.systemUTC())
              .prune(
                  keepArchived == null ? DEFAULT_KEEP_ARCHIVED : keepArchived,
                  Duration.ofHours(graceHours == null ? DEFAULT_GRACE_HOURS : graceHours),
                  dryRun);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prune " + m.artifacts().root(), e);
    }
    out.printf(
        "versions whose artifacts are kept: %s%n",
        String.join(", ", new TreeSet<>(r.plan().keptVersions())));
    for (StoredFile f : r.plan().delete()) {
      out.printf("%s %s (%d bytes)%n", dryRun ? "would delete" : "delete", f.path(), f.bytes());
    }
    r.failed().forEach(f -> out.printf("could not delete %s%n", f));
    long bytes =
        dryRun ? r.plan().deleteBytes() : r.deleted().stream().mapToLong(StoredFile::bytes).sum();
    out.printf(
        "%s %d files (%d MB), kept %d files%n",
        dryRun ? "would delete" : "deleted",
        dryRun ? r.plan().delete().size() : r.deleted().size(),
        bytes / (1024 * 1024),
        r.plan().keep().size());
    out.flush();
    return r.failed().isEmpty() ? 0 : 1;
  }

  /**
   * The trainer's configuration this command reads the registry with: its metrics server off,
   * whatever the file says (the file may be a running trainer's, whose port is taken).
   */
  Map<String, String> config(Map<String, String> env) {
    return ServiceConfig.resolveKafka(configFile, endpointOptions, env)
        .option("model.name", modelName)
        .option("metrics.port", 0)
        .option("artifact.store", artifactStore)
        .orDefault("artifact.store", RunsCommand.defaultStore(env))
        .values();
  }

  /**
   * Every field of {@code v}'s record, one a line by its schema name; the reference profile (the
   * drift job's, thousands of numbers) only by its size. The registry's topic is compacted: this is
   * the record, whatever the version's run directory still holds.
   */
  static void show(PrintWriter out, ModelVersion v) {
    for (org.apache.avro.Schema.Field f : ModelVersion.getClassSchema().getFields()) {
      Object value = v.get(f.pos());
      if (value instanceof io.feedrank.events.ReferenceProfile p) {
        value = p.getN() + " holdout rows, " + p.getFeatures().size() + " features";
      }
      out.printf("%-24s %s%n", f.name(), value == null ? "" : value);
    }
    out.flush();
  }

  private static void print(PrintWriter out, List<ModelVersion> versions) {
    out.printf("%-30s %-10s %-10s %8s  %s%n", "VERSION", "STAGE", "ARCH", "AUC", "DECISION");
    for (ModelVersion v : versions) {
      out.printf(
          "%-30s %-10s %-10s %8.4f  %s%n",
          v.getVersion(),
          v.getStage(),
          v.getArchitecture(),
          v.getMetrics().getOrDefault("auc", Double.NaN),
          v.getDecision() == null ? "" : v.getDecision() + ": " + v.getDecisionReason());
    }
    out.flush();
  }
}
