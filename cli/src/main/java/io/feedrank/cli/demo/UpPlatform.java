package io.feedrank.cli.demo;

import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.RefusedException;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code ./feedrank up}: the platform of the demo kept running for exploring by hand — the stack,
 * streams-features, the drift job, the trainer's listener and the ranker — bootstrapped with a
 * simulated history that ends now and a first model trained on it, then fed by the simulator in
 * real time at a gentle rate.
 */
public final class UpPlatform implements AutoCloseable {
  /**
   * @param dir state directory (deleted on close when {@code deleteOnClose})
   * @param rankerPort HTTP port of the ranker (0 = any free one)
   * @param streamsMetricsPort Prometheus port of streams-features (0 = off)
   * @param flinkMetricsPort Prometheus port of the drift job's Flink metrics (0 = off)
   * @param trainerMetricsPort Prometheus port of the trainer (0 = off)
   * @param history simulated event time before now to bootstrap with (zero = no bootstrap)
   * @param rate real-time interactions per second after the bootstrap (0 = none)
   * @param rankerConfig ranker keys ({@code RankerConfig}) over the platform's, e.g. a rate limit
   */
  public record Options(
      Path dir,
      boolean deleteOnClose,
      int kafkaPort,
      int redisPort,
      int registryPort,
      int rankerPort,
      int streamsMetricsPort,
      int flinkMetricsPort,
      int trainerMetricsPort,
      int partitions,
      long seed,
      int users,
      int items,
      Duration history,
      double rate,
      Map<String, String> rankerConfig) {}

  private final Options options;
  private Platform platform;
  private Traffic realTime;
  private String firstModel = "none";
  private long historyEvents;

  private UpPlatform(Options options) {
    this.options = options;
  }

  public static UpPlatform start(Options o, Consumer<String> progress) throws Exception {
    UpPlatform up = new UpPlatform(o);
    try {
      up.startAll(progress);
      return up;
    } catch (Exception | Error e) {
      up.close();
      throw e;
    }
  }

  private void startAll(Consumer<String> progress) throws Exception {
    Map<String, String> streams = new HashMap<>();
    streams.put("metrics.port", Integer.toString(options.streamsMetricsPort()));
    Map<String, String> ranker = new HashMap<>();
    ranker.putAll(options.rankerConfig());
    ranker.put("port", Integer.toString(options.rankerPort()));
    Map<String, String> trainer = new HashMap<>();
    trainer.put("architectures", "mlp");
    trainer.put("max.epochs", "6");
    trainer.put("metrics.port", Integer.toString(options.trainerMetricsPort()));
    // up's event time is the wall clock's (a history up to now, then real time), so the drift job
    // keeps its max.ahead.of.clock.ms: records stamped further ahead (a simulate run ahead of the
    // clock, a request dated in the future) are skipped, not left to hold its watermarks ahead
    Map<String, String> drift = new HashMap<>();
    platform =
        Platform.start(
            new Platform.Settings(
                options.dir(),
                options.kafkaPort(),
                options.redisPort(),
                options.registryPort(),
                options.partitions(),
                streams,
                drift,
                ranker,
                trainer,
                Clock.systemUTC(),
                options.flinkMetricsPort(),
                options.deleteOnClose()),
            s -> progress.accept("starting " + s));
    Instant now = Instant.now();
    SimulatorConfig world =
        SimulatorConfig.defaults(options.seed(), now.minus(options.history()))
            .withPopulation(options.users(), options.items())
            .withEventsPerEventSecond(10);
    if (!options.history().isZero()) {
      progress.accept(
          "publishing a simulated history of " + options.history().toHours() + " h up to now");
      try (Traffic history =
          new Traffic(new InteractionSimulator(world), platform.clientConfig())) {
        historyEvents =
            history
                .history(
                    50_000_000,
                    // or a Ctrl-C: up's hook interrupts the start
                    () ->
                        !history.eventTime().isBefore(now)
                            || Thread.currentThread().isInterrupted())
                .interactions();
      }
      awaitCaughtUp(progress);
      progress.accept("training the first model on " + historyEvents + " events");
      try {
        RunRecord run =
            platform
                .trainer()
                .trainOnce(new DataRange(now.minus(options.history()), now), "up: first model");
        RunRecord.ModelRun m = run.registeredModel().orElseThrow();
        firstModel =
            String.format(
                Locale.ROOT,
                "%s (AUC %.4f, logistic baseline %.4f): %s",
                m.version,
                m.metrics.get("auc"),
                run.baselines.get("logistic").get("auc"),
                m.decision);
      } catch (RefusedException e) {
        firstModel = "none: " + e.getMessage();
      }
      if (!firstModel.startsWith("none")) {
        // the ranker loads the model, then warms up: a load test started after up's summary
        // should not meet a cold JIT
        progress.accept("warming up the ranker");
        if (!platform.ranker().awaitReady(Duration.ofSeconds(120))) {
          progress.accept("the ranker is not ready after 120 s: see GET /health/ready");
        }
      }
    }
    platform.listen();
    if (options.rate() > 0) {
      realTime =
          new Traffic(new InteractionSimulator(world.withRealTime(true)), platform.clientConfig());
      realTime.startBackground(options.rate());
    }
  }

  private void awaitCaughtUp(Consumer<String> progress) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    for (long lag = platform.featuresLag(); lag > 0; lag = platform.featuresLag()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "streams-features did not process the history within 5 minutes (lag " + lag + ")");
      }
      progress.accept(String.format(Locale.ROOT, "streams-features lag %,d records", lag));
      Thread.sleep(2_000);
    }
  }

  public Platform platform() {
    return platform;
  }

  /** Where the drift job's Flink metrics are served, or "off". */
  public String flinkMetricsUrl() {
    return options.flinkMetricsPort() > 0
        ? "http://127.0.0.1:" + options.flinkMetricsPort() + "/"
        : "off";
  }

  public String firstModel() {
    return firstModel;
  }

  public long historyEvents() {
    return historyEvents;
  }

  @Override
  public void close() {
    if (realTime != null) {
      realTime.close();
    }
    if (platform != null) {
      platform.close();
    }
    if (options.deleteOnClose()) {
      deleteTree(options.dir());
    }
  }

  /** Deletes {@code dir} and everything in it, as far as it can: best effort, at a stop. */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: the directory is under target/
    }
  }
}
