package io.feedrank.cli;

import io.feedrank.drift.DriftConfig;
import io.feedrank.drift.LocalCheckpoints;
import io.feedrank.drift.LocalDriftJob;
import io.feedrank.drift.LocalFlink;
import io.feedrank.drift.StateDirConfig;
import io.feedrank.drift.StateDirLock;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./feedrank drift}: the drift job on a local Flink MiniCluster, until Ctrl-C. */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    header = "Run flink-drift on a local Flink MiniCluster: feature, score and CTR drift.",
    description = {
      "Run flink-drift on a local Flink MiniCluster: training-examples and ranking-logs against the",
      "serving model's reference profile; drift-reports, alerts and retrain-commands out; online",
      "CTR per model version and variant (ranking-logs joined with interactions) to online-ctr.",
      "Endpoints: options, else FEEDRANK_BOOTSTRAP_SERVERS / FEEDRANK_REGISTRY_URL, else (none",
      "given) those of a running ./feedrank up. Any key of --config (see README) can be given too.",
      "The job's state (windows, streaks, cooldown) is kept in --state-dir: Ctrl-C stops it with a",
      "savepoint there, and the next start goes on from it, if it was taken with the same",
      "model.name, window.ms, ctr.window.ms and Kafka cluster: else the start is refused (exit",
      "code 2). One job per state directory: a second one started on it while the first runs is",
      "refused (exit code 2), naming the first."
    })
final class DriftCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(DriftCommand.class);

  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Option(names = "--config", description = "properties file with any DriftConfig key")
  Path configFile;

  @Option(
      names = "--model-name",
      description = "the model whose reference is used (default feed-ranker)")
  String modelName;

  @Option(names = "--window-ms", description = "tumbling window, event time (default 300000)")
  Long windowMs;

  @Option(names = "--from-earliest", description = "read the input topics from their beginning")
  boolean fromEarliest;

  @Option(
      names = "--state-dir",
      description =
          "checkpoints and savepoints of the job, restored at the next start (default"
              + " target/drift-state; the config key state.dir)")
  String stateDir;

  @Option(
      names = "--metrics-port",
      defaultValue = "9249",
      description =
          "Prometheus metrics of the job on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 = off)")
  int metricsPort;

  /** How long a stop waits for the savepoint, and then for the job and its cluster to end. */
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

  /** How long a start waits for Kafka to say its cluster id. */
  static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Why a drift job on {@code bootstrapServers} must not start, if a whole-platform {@code up} runs
   * its own on that Kafka: two jobs on the same topics both read every record (whatever their group
   * ids), and every report, alert and retrain command would come out twice. {@code up}'s job has no
   * state directory for {@link StateDirLock} to find.
   */
  static Optional<String> besideAPlatform(Map<String, String> env, String bootstrapServers) {
    return Endpoints.runningPlatform(env)
        .filter(p -> p.bootstrapServers().equals(bootstrapServers))
        .map(
            p ->
                "the running ./feedrank up (pid "
                    + p.pid()
                    + ") runs its own drift job on "
                    + bootstrapServers
                    + ": a second would read every record again and double every drift report,"
                    + " alert and retrain command. Use ./feedrank up --stack-only to run the"
                    + " components yourself");
  }

  @Override
  public Integer call() throws Exception {
    if (metricsPort < 0 || metricsPort > 65535) {
      throw new ParameterException(
          spec.commandLine(),
          "--metrics-port must be within 0..65535 (0 = off), got " + metricsPort);
    }
    Map<String, String> env = System.getenv();
    Map<String, String> c =
        new HashMap<>(
            ServiceConfig.refusing(
                spec,
                () ->
                    ServiceConfig.resolveKafka(configFile, endpointOptions, env)
                        .option("model.name", modelName)
                        .option("window.ms", windowMs)
                        .option("from.earliest", fromEarliest ? "true" : null)
                        .option("state.dir", stateDir)
                        .orDefault(
                            "state.dir",
                            Path.of(env.getOrDefault("FEEDRANK_HOME", "."), "target", "drift-state")
                                .toString())
                        .values()));
    // this command's key, not the job's: where the local cluster keeps the job's state
    Path state = Path.of(c.remove("state.dir")).toAbsolutePath();
    DriftConfig config =
        ServiceConfig.refusing(spec, () -> LocalDriftJob.inThisJvm(DriftConfig.from(c)));
    Optional<String> beside = besideAPlatform(env, config.bootstrapServers());
    if (beside.isPresent()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("feedrank drift: " + beside.get());
      err.flush();
      return 2;
    }
    // what the state directory's snapshots are checked against, with the model and window
    String kafkaClusterId = StateDirConfig.kafkaClusterId(config, KAFKA_TIMEOUT);
    // before anything reads or tidies the state directory: a second job on it would process every
    // record again (Flink's Kafka source does not share partitions through the group), doubling
    // every report, alert and retrain command, and claim the first one's checkpoints
    StateDirLock lock;
    try {
      lock = StateDirLock.acquire(state, config.groupId());
    } catch (StateDirLock.HeldException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("feedrank drift: " + e.getMessage());
      err.flush();
      return 2;
    }
    try {
      ServiceConfig.refusing(
          spec,
          () -> {
            StateDirConfig.check(state, StateDirConfig.of(config, kafkaClusterId));
            return null;
          });
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
    // every listener of the MiniCluster on 127.0.0.1
    org.apache.flink.configuration.Configuration flink = LocalFlink.loopback();
    if (metricsPort > 0) {
      io.feedrank.drift.metrics.LoopbackPrometheusReporterFactory.configure(flink, metricsPort);
    }
    Optional<Path> restored = LocalCheckpoints.configure(flink, state);
    PrintWriter out = spec.commandLine().getOut();
    LocalDriftJob job;
    try {
      job = LocalDriftJob.start(flink, config, config.jobName());
    } catch (Exception | Error e) {
      // with its stack, to where the job's log goes (a file, a log shipper): Main prints the
      // messages of the causes only, without FEEDRANK_DEBUG
      log.error("drift: the job failed to start", e);
      lock.close();
      throw e;
    }
    // Ctrl-C / SIGTERM: a savepoint, then the job and its MiniCluster end (its temporary files
    // deleted), before the JVM exits; the state directory is released once the savepoint is in it
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  job.stop(STOP_TIMEOUT)
                      .ifPresent(s -> System.out.println("feedrank drift: stopped, state in " + s));
                  lock.close();
                },
                "feedrank-drift-shutdown"));
    out.println(
        "feedrank drift: running on a local Flink MiniCluster, state in "
            + state
            + restored.map(r -> " (restored from " + r + ")").orElse(" (none to restore)")
            + (metricsPort > 0 ? "; metrics http://127.0.0.1:" + metricsPort + "/" : "")
            + ". Press Ctrl-C to stop.");
    out.flush();
    JobResult result = job.result().get();
    if (!result.isSuccess() && result.getSerializedThrowable().isPresent()) {
      // the job failed for good (a restore that does not fit, a restart strategy exhausted)
      Throwable why =
          result
              .getSerializedThrowable()
              .get()
              .deserializeError(DriftCommand.class.getClassLoader());
      log.error("drift: the job failed", why);
      throw new IllegalStateException("the drift job failed", why);
    }
    return 0;
  }
}
