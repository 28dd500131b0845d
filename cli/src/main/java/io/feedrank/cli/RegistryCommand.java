package io.feedrank.cli;

import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.Main;
import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.registry.RegistryCommands;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./feedrank registry list | promote VERSION | rollback}: operate the model registry. */
@Command(
    name = "registry",
    mixinStandardHelpOptions = true,
    header = "List the model's versions, promote one to production, or roll back.",
    description = {
      "list: every version of the model with its stage and decision.",
      "promote VERSION: put VERSION in production (the current one is archived).",
      "rollback: production goes back to the version the current one replaced (to put another",
      "  archived version in production, promote it).",
      "Promote and rollback also archive a staging version: its A/B share was measured against",
      "the production they replace."
    })
final class RegistryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Parameters(index = "0", description = "list, promote or rollback")
  String action;

  @Parameters(index = "1", arity = "0..1", description = "version (for promote)")
  String version;

  @Option(names = "--model-name", description = "registry model name (default feed-ranker)")
  String modelName;

  @Option(names = "--config", description = "properties file with any TrainerConfig key")
  Path configFile;

  @Override
  public Integer call() {
    // usage errors (exit code 2) before anything is opened
    switch (action) {
      case "list", "rollback" -> {
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
                      : ""));
        }
      }
      case "promote" -> {
        if (version == null) {
          throw new ParameterException(
              spec.commandLine(), "registry promote needs a version (see registry list)");
        }
      }
      default ->
          throw new ParameterException(
              spec.commandLine(), "unknown action '" + action + "': list, promote or rollback");
    }
    TrainerConfig config =
        ServiceConfig.refusing(spec, () -> TrainerConfig.from(config(System.getenv())));
    PrintWriter out = spec.commandLine().getOut();
    try (Main m = new Main(config, Clock.systemUTC())) {
      RegistryCommands r =
          new RegistryCommands(m.registry(), config.modelName(), Clock.systemUTC());
      switch (action) {
        case "list" -> print(out, r.list());
        case "promote" -> print(out, r.promote(version, "promoted by operator"));
        default -> print(out, r.rollback());
      }
    }
    return 0;
  }

  /**
   * The trainer's configuration this command reads the registry with: its metrics server off,
   * whatever the file says (the file may be a running trainer's, whose port is taken).
   */
  Map<String, String> config(Map<String, String> env) {
    return ServiceConfig.resolveKafka(configFile, endpointOptions, env)
        .option("model.name", modelName)
        .option("metrics.port", 0)
        .orDefault("artifact.store", RunsCommand.defaultStore(env))
        .values();
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
