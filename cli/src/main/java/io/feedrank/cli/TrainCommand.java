package io.feedrank.cli;

import io.feedrank.trainer.Main;
import io.feedrank.trainer.RefusedException;
import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.listen.RetrainListener;
import io.feedrank.trainer.runs.RunRecord;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./feedrank train [--listen]}: one training run, or a listener on retrain commands. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    header = "Train ranking models, export them to ONNX, register them and decide their stage.",
    description = {
      "Train the deep MLP and/or two-tower (plus the logistic baseline) on the training-examples of",
      "an event-time range, export verified ONNX, record the run, register the best network and",
      "decide its stage against production. Exit code 2 when the data is refused.",
      "With --listen: consume retrain-commands and run one training per command until Ctrl-C.",
      "Endpoints: options, else FEEDRANK_BOOTSTRAP_SERVERS / FEEDRANK_REGISTRY_URL, else (none",
      "given) those of a running ./feedrank up. Any key of --config (see README) can be given too."
    })
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Option(names = "--config", description = "properties file with any TrainerConfig key")
  Path configFile;

  @Option(names = "--listen", description = "consume retrain-commands instead of one run")
  boolean listen;

  @Option(names = "--from", description = "event time from, ISO-8601 (with --to)")
  Instant from;

  @Option(names = "--to", description = "event time to (exclusive), ISO-8601")
  Instant to;

  @Option(names = "--days", description = "the last N days of event time (default 7)")
  Integer days;

  @Option(
      names = "--trigger",
      description =
          "what started this run, recorded in its run.json (default manual; the nightly CronJob"
              + " gives nightly): letters, digits, '-' and '_'")
  String trigger = "manual";

  @Option(names = "--architectures", description = "mlp, two_tower or both (default mlp,two_tower)")
  String architectures;

  @Option(names = "--max-epochs", description = "epochs at most (default 10; early stopping)")
  Integer maxEpochs;

  @Option(names = "--model-name", description = "registry model name (default feed-ranker)")
  String modelName;

  @Option(names = "--artifact-store", description = "directory or file: URI for runs and models")
  String artifactStore;

  @Option(names = "--metrics-port", description = "Prometheus /metrics port (default 0 = off)")
  Integer metricsPort;

  @Option(
      names = "--metrics-host",
      description = "address of /metrics (default 127.0.0.1; 0.0.0.0 in a container)")
  String metricsHost;

  @Override
  public Integer call() throws Exception {
    checkRange();
    TrainerConfig config =
        ServiceConfig.refusing(spec, () -> TrainerConfig.from(config(System.getenv())));
    PrintWriter out = spec.commandLine().getOut();
    try (Main trainer = new Main(config, Clock.systemUTC())) {
      if (listen) {
        return listen(trainer, out);
      }
      DataRange range = from == null ? null : new DataRange(from, to);
      // Ctrl-C or SIGTERM (a pod's eviction) stops the run at its next batch, recorded CANCELLED
      try (InterruptOnShutdown stop =
          InterruptOnShutdown.install(Duration.ofMinutes(2), "feedrank-train-shutdown")) {
        RunRecord run = trainer.trainOnce(range, trigger);
        RunsCommand.printRun(out, run);
        return 0;
      } catch (RefusedException e) {
        out.println("refused: " + e.getMessage());
        return 2;
      }
    }
  }

  /**
   * One run's range: --from and --to together, in order, and neither with --listen or --days; and
   * its trigger: a word, not with --listen (a listener's runs are triggered by their commands).
   */
  void checkRange() {
    if (!trigger.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new ParameterException(
          spec.commandLine(),
          "--trigger must be 1 to 64 letters, digits, '-' or '_', was '" + trigger + "'");
    }
    if (listen && spec.commandLine().getParseResult().hasMatchedOption("--trigger")) {
      throw new ParameterException(
          spec.commandLine(),
          "--trigger names one run's trigger; with --listen each run is recorded as its retrain"
              + " command's (retrain-command REASON)");
    }
    if (from == null && to == null) {
      return;
    }
    String problem =
        (from == null) != (to == null)
            ? "--from and --to go together"
            : listen
                ? "--from and --to set one run's range; with --listen each retrain command sets its"
                    + " own"
                : days != null
                    ? "--days or --from and --to, not both"
                    : !from.isBefore(to) ? "--from " + from + " is not before --to " + to : null;
    if (problem != null) {
      throw new ParameterException(spec.commandLine(), problem);
    }
  }

  /** The trainer's keys: the config file's, then the named options, which win. */
  Map<String, String> config(Map<String, String> env) {
    Map<String, String> c =
        ServiceConfig.resolveKafka(configFile, endpointOptions, env)
            .option("data.days", days)
            .option("architectures", architectures)
            .option("max.epochs", maxEpochs)
            .option("model.name", modelName)
            .option("artifact.store", artifactStore)
            .option("metrics.port", metricsPort)
            .option("metrics.host", metricsHost)
            .orDefault("artifact.store", RunsCommand.defaultStore(env))
            .values();
    if (days != null) {
      // the file's other ways of saying the default range would win over data.days
      c.remove("data.window.ms");
      c.remove("data.from");
      c.remove("data.to");
    }
    return c;
  }

  private int listen(Main trainer, PrintWriter out) {
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    RetrainListener l = trainer.listen();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    l.close();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  stopped.complete(null);
                },
                "feedrank-trainer-shutdown"));
    out.println("feedrank trainer: listening on retrain-commands. Press Ctrl-C to stop.");
    out.flush();
    CompletableFuture.anyOf(stopped, l.failed()).join();
    if (!stopped.isDone()) {
      // it takes no more commands: end, non-zero, so that what runs it restarts it
      spec.commandLine()
          .getErr()
          .println(
              "feedrank train: the retrain listener stopped on an error (see the log); exiting");
      return 1;
    }
    return 0;
  }
}
