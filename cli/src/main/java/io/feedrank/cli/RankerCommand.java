package io.feedrank.cli;

import io.feedrank.ranker.RankerApp;
import io.feedrank.ranker.RankerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./feedrank ranker}: the ranking service, until Ctrl-C. */
@Command(
    name = "ranker",
    mixinStandardHelpOptions = true,
    header = "Run ranker-service: rank candidates over HTTP with the served ONNX model.",
    description = {
      "Run ranker-service: POST /v1/rank scores candidates with the PRODUCTION model of the",
      "model-registry topic (STAGING for the A/B share), features from Redis through a local cache.",
      "Endpoints: options, else FEEDRANK_BOOTSTRAP_SERVERS / FEEDRANK_REGISTRY_URL / FEEDRANK_REDIS_URI,",
      "else (none given) those of a running ./feedrank up. Any configuration key (see README) can be",
      "given in a --config file or as --ranker-config KEY=VALUE; the named options below win over",
      "both."
    })
final class RankerCommand implements Runnable {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Option(names = "--redis-uri", description = "redis://host:port or redis-cluster://h1:p1,h2:p2")
  String redisUri;

  @Option(names = "--config", description = "properties file with any RankerConfig key")
  Path configFile;

  @Option(
      names = "--ranker-config",
      description =
          "a configuration key, KEY=VALUE, repeatable (e.g. rate.limit.per.second=5000); over"
              + " --config's value of the same key")
  Map<String, String> rankerConfig = new LinkedHashMap<>();

  @Option(names = "--port", description = "HTTP port (default 8080; 0 = any free port)")
  Integer port;

  @Option(
      names = "--management-port",
      description =
          "port of /health, /health/live, /health/ready and /metrics, then not served on --port (default: on --port; 0 = any free port)")
  Integer managementPort;

  @Option(
      names = "--host",
      description = "address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
  String host;

  @Option(
      names = "--api-keys",
      description = "file of '<client> <sha256-of-key>' lines (default: no authentication)")
  Path apiKeys;

  @Option(
      names = "--artifact-store",
      description =
          "directory or file: URI the models' artifacts are read from (default: the store of a"
              + " running ./feedrank up's platform, else target/artifacts)")
  String artifactStore;

  @Option(names = "--staging-share", description = "share of users served by STAGING (0..1)")
  Double stagingShare;

  @Option(names = "--model-name", description = "the model to serve (default feed-ranker)")
  String modelName;

  @Option(
      names = "--shutdown-unready-ms",
      description =
          "on SIGTERM / Ctrl-C, keep serving this long with /health/ready DOWN before refusing new requests (default 0; behind a load balancer, longer than it takes to stop routing here)")
  Long shutdownUnreadyMs;

  @Override
  public void run() {
    RankerConfig config =
        ServiceConfig.refusing(
            spec,
            () -> {
              RankerConfig c = RankerConfig.from(config(System.getenv()));
              // read here too, a file missing or holding no key being a refused configuration
              // (exit 2) as any other value, not a ranker that failed (exit 1); the start reads it
              // again
              if (c.apiKeysFile() != null) {
                RankerApp.apiKeys(c.apiKeysFile());
              }
              return c;
            });
    PrintWriter out = spec.commandLine().getOut();
    CountDownLatch stopped = new CountDownLatch(1);
    try {
      RankerApp app = RankerApp.start(config);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    app.close();
                    stopped.countDown();
                  },
                  "feedrank-ranker-shutdown"));
      String base = "http://" + config.host() + ":" + app.port();
      String ops = "http://" + config.host() + ":" + app.managementPort();
      out.printf(
          "feedrank ranker on %s%n  POST %s/v1/rank%n  GET  %s/v1/config%n  GET  %s/health"
              + "  %s/health/ready  %s/metrics%nPress Ctrl-C to stop.%n",
          base, base, base, ops, ops, ops);
      out.flush();
      stopped.await();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    } catch (Exception ex) {
      throw new IllegalStateException("ranker failed to start: " + ex.getMessage(), ex);
    }
  }

  /**
   * The configuration keys: the {@code --config} file and the endpoints as resolved, then each
   * {@code --ranker-config} key, then the named options.
   */
  Map<String, String> config(Map<String, String> env) {
    ServiceConfig resolved =
        ServiceConfig.resolve(configFile, rankerConfig, endpointOptions, redisUri, env);
    return resolved
        .option("port", port)
        .option("management.port", managementPort)
        .option("host", host)
        .option("api.keys.file", apiKeys)
        .option("artifact.store", artifactStore)
        .option("ab.staging.share", stagingShare)
        .option("model.name", modelName)
        .option("shutdown.unready.ms", shutdownUnreadyMs)
        // the store the models' records name: the ranker reads no artifact out of its store
        .orDefault("artifact.store", RunsCommand.defaultStore(env))
        .values();
  }
}
