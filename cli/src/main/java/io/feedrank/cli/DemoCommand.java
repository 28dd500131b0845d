package io.feedrank.cli;

import io.feedrank.cli.demo.Demo;
import io.feedrank.cli.demo.DemoConfig;
import io.feedrank.cli.demo.DemoReport;
import io.feedrank.simulator.Scenario;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./feedrank demo}: the closed loop end to end on the local stack. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    header = "Run the whole platform end to end: train, serve, drift, retrain, promote.",
    description = {
      "Run the whole platform end to end on the local stack: a stationary history, the first model",
      "(MLP beside the logistic baseline) trained, promoted and served, ranking traffic over HTTP",
      "while interactions flow, a drift scenario, its detection and one retrain command, the retrain",
      "and its decision against production, the ranker's hot swap, and a report",
      "(target/demo/report.json and report.md). Event time runs ~100x faster than wall time.",
      "Exit 0 on success, 1 with the failing phase named."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--scenario",
      defaultValue = "CATEGORY_SHIFT",
      description =
          "CATEGORY_SHIFT, DEVICE_SHIFT, CTR_DROP or NEW_ITEM_FLOOD (default ${DEFAULT-VALUE})")
  Scenario scenario;

  @Option(
      names = "--strength",
      defaultValue = "1.0",
      description = "scenario strength in (0, 1] (default ${DEFAULT-VALUE})")
  double strength;

  @Option(
      names = "--history",
      description =
          "stationary interactions before the first model (default 150000; at least 20000)")
  Long history;

  @Option(names = "--rate", description = "background interactions per wall second (default 1000)")
  Double rate;

  @Option(
      names = "--serving-seconds",
      description = "stationary serving before the drift (default 20)")
  Integer servingSeconds;

  @Option(names = "--max-epochs", description = "epochs at most per training (default 10)")
  Integer maxEpochs;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "simulator seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--dir",
      description =
          "output and state directory: new, empty or a previous demo's (default target/demo)")
  Path dir;

  /**
   * The file that marks a directory as a demo's, written first thing, and holds the lock of the
   * demo running in it ({@link UpLock}): a second demo there would delete the first one's Kafka log
   * and state under it.
   */
  static final String MARKER = ".feedrank-demo";

  @Override
  public Integer call() throws Exception {
    Path home = Path.of(System.getenv().getOrDefault("FEEDRANK_HOME", "."));
    Path out = (dir != null ? dir : home.resolve("target").resolve("demo")).toAbsolutePath();
    // every setting is checked (by DemoConfig) before anything starts, or a previous run's report
    // is replaced
    DemoConfig d = DemoConfig.defaults(out);
    try {
      d =
          d.with(
              history != null ? history : d.historyEvents(),
              rate != null ? rate : d.trafficRate(),
              servingSeconds != null ? Duration.ofSeconds(servingSeconds) : d.servingTime(),
              maxEpochs != null ? maxEpochs : d.maxEpochs());
      d = d.withScenario(scenario, strength, seed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    String named = (dir != null ? "--dir " : "the default --dir ") + out;
    if (!newOrADemos(out)) {
      throw new ParameterException(
          spec.commandLine(),
          named
              + " is not empty and not a demo's directory: the demo deletes its stack/,"
              + " streams-state/, artifacts/ and flink-checkpoints/ there as it starts; give a new"
              + " or empty directory, or a previous demo's");
    }
    Files.createDirectories(out);
    UpLock lock =
        UpLock.acquire(
            out.resolve(MARKER),
            "the ./feedrank demo that runs in this directory; released when it ends",
            pid ->
                new ParameterException(
                    spec.commandLine(),
                    named
                        + " is in use by another ./feedrank demo"
                        + (pid == null ? "" : " (pid " + pid + ")")
                        + ": give another --dir, or wait for it to end"));
    try {
      return run(d, out);
    } finally {
      lock.close();
    }
  }

  private Integer run(DemoConfig d, Path out) throws Exception {
    LogFiles.redirect(out.resolve("demo.log"));
    PrintWriter w = spec.commandLine().getOut();
    Demo demo = new Demo(d, w, System.console() != null);
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              demo.cancel();
              try {
                finished.await(60, TimeUnit.SECONDS); // let the demo stop what it started
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "feedrank-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    w.printf(
        "feedrank demo: the closed loop on the local stack; report, state and log (demo.log) in %s%n",
        out);
    w.flush();
    try {
      DemoReport r = demo.run();
      w.println();
      w.println(r.markdownSummary());
      w.printf("report: %s and %s%n", out.resolve("report.md"), out.resolve("report.json"));
      return 0;
    } catch (Demo.Failure f) {
      w.printf(
          "%nfeedrank demo: FAILED in phase '%s': %s%nreport: %s%n",
          f.phase(), f.getMessage(), out.resolve("report.md"));
      return 1;
    } finally {
      w.flush();
      finished.countDown();
    }
  }

  /**
   * Whether the demo may start in {@code out}, which it starts by emptying of an earlier run's
   * stack/, streams-state/, artifacts/ and flink-checkpoints/: a new or empty directory, or a
   * demo's, known by its {@link #MARKER} (one from before the marker by its log or report).
   * Anything else (target/, say, whose artifacts/ is train's, runs' and the ranker's default store)
   * is refused before anything is deleted.
   */
  static boolean newOrADemos(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return true;
    }
    try (var entries = Files.list(out)) {
      if (entries.findAny().isEmpty()) {
        return true;
      }
    }
    return Stream.of(MARKER, "demo.log", "report.json").anyMatch(f -> Files.exists(out.resolve(f)));
  }
}
