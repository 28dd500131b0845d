package io.feedrank.cli;

import io.feedrank.streams.FeaturesConfig;
import io.feedrank.streams.Main.FeaturesApp;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./feedrank streams}: the Kafka Streams features app, until Ctrl-C. */
@Command(
    name = "streams",
    mixinStandardHelpOptions = true,
    header = "Run streams-features: interactions to Redis features and training examples.",
    description = {
      "Run streams-features: validate interactions (bad ones to interactions-dlq), keep user / item /",
      "user-category features in Redis, emit point-in-time training examples; exactly once.",
      "Endpoints: options, else FEEDRANK_BOOTSTRAP_SERVERS / FEEDRANK_REGISTRY_URL / FEEDRANK_REDIS_URI,",
      "else (none given) those of a running ./feedrank up. Any key of --config (see README) can be",
      "given too."
    })
final class StreamsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Option(names = "--redis-uri", description = "redis://host:port or redis-cluster://h1:p1,h2:p2")
  String redisUri;

  @Option(
      names = "--config",
      description =
          "properties file with any FeaturesConfig key (kafka.* keys go to Kafka Streams)")
  Path configFile;

  @Option(
      names = "--application-id",
      description = "Kafka Streams application id (default feedrank-features)")
  String applicationId;

  @Option(names = "--threads", description = "stream threads (default 1)")
  Integer threads;

  @Option(names = "--state-dir", description = "state directory (default target/streams-state)")
  String stateDir;

  @Option(
      names = "--metrics-port",
      description = "Prometheus /metrics port (default 9401; 0 = off)")
  Integer metricsPort;

  @Option(
      names = "--metrics-host",
      description = "address of /metrics (default 127.0.0.1; 0.0.0.0 in a container)")
  String metricsHost;

  @Override
  public Integer call() {
    Map<String, String> env = System.getenv();
    Map<String, String> c =
        ServiceConfig.refusing(
            spec,
            () ->
                ServiceConfig.resolve(configFile, endpointOptions, redisUri, env)
                    .option("application.id", applicationId)
                    .option("num.stream.threads", threads)
                    .option("state.dir", stateDir)
                    .option("metrics.port", metricsPort)
                    .option("metrics.host", metricsHost)
                    .orDefault(
                        "state.dir",
                        Path.of(env.getOrDefault("FEEDRANK_HOME", "."), "target", "streams-state")
                            .toString())
                    .values());
    FeaturesConfig config = ServiceConfig.refusing(spec, () -> FeaturesConfig.from(c));
    PrintWriter out = spec.commandLine().getOut();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    try {
      FeaturesApp app = io.feedrank.streams.Main.start(config);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    app.close();
                    stopped.complete(null);
                  },
                  "feedrank-streams-shutdown"));
      out.printf(
          "feedrank streams: %s%nmetrics: %s%nPress Ctrl-C to stop.%n",
          config,
          app.metricsServer() == null
              ? "off"
              : "http://" + config.metricsHost() + ":" + app.metricsServer().port() + "/metrics");
      out.flush();
      CompletableFuture.anyOf(stopped, app.failed()).join();
      if (!stopped.isDone()) {
        // the client processes nothing more, or nothing more reaches Redis: end, non-zero, so that
        // what runs it restarts it (the shutdown hook closes the app)
        spec.commandLine()
            .getErr()
            .println(
                "feedrank streams: the Kafka Streams client or the Redis writer failed (see the"
                    + " log); exiting");
        return 1;
      }
      return 0;
    } catch (IOException ex) {
      throw new UncheckedIOException(ex.getMessage(), ex); // its own message, not the class's name
    }
  }
}
