package io.feedrank.cli;

import io.feedrank.drift.DriftConfig;
import io.feedrank.drift.DriftMain;
import io.feedrank.drift.LocalFlink;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
      "given) those of a running ./feedrank up. Any key of --config (see README) can be given too."
    })
final class DriftCommand implements Callable<Integer> {
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
      names = "--metrics-port",
      defaultValue = "9249",
      description =
          "Prometheus metrics of the job on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 = off)")
  int metricsPort;

  @Override
  public Integer call() throws Exception {
    if (metricsPort < 0 || metricsPort > 65535) {
      throw new ParameterException(
          spec.commandLine(),
          "--metrics-port must be within 0..65535 (0 = off), got " + metricsPort);
    }
    Map<String, String> c =
        ServiceConfig.resolveKafka(configFile, endpointOptions, System.getenv())
            .option("model.name", modelName)
            .option("window.ms", windowMs)
            .option("from.earliest", fromEarliest ? "true" : null)
            .values();
    DriftConfig config = DriftConfig.from(c);
    // every listener of the MiniCluster on 127.0.0.1
    org.apache.flink.configuration.Configuration flink = LocalFlink.loopback();
    if (metricsPort > 0) {
      io.feedrank.drift.metrics.LoopbackPrometheusReporterFactory.configure(flink, metricsPort);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    DriftMain.build(env, config);
    spec.commandLine()
        .getOut()
        .println(
            "feedrank drift: running on a local Flink MiniCluster"
                + (metricsPort > 0 ? "; metrics http://127.0.0.1:" + metricsPort + "/" : "")
                + ". Press Ctrl-C to stop.");
    spec.commandLine().getOut().flush();
    env.execute("feedrank-drift");
    return 0;
  }
}
