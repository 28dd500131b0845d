package io.feedrank.cli;

import io.feedrank.cli.demo.UpPlatform;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.Ports;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./feedrank up}: the local stack, kept running until Ctrl-C. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    header = "Start the whole platform on the local stack and keep it running until Ctrl-C.",
    description = {
      "Start the platform on the local stack and keep it running until Ctrl-C: Kafka (KRaft),",
      "Redis, the schema registry, streams-features, the drift job on a Flink MiniCluster, the",
      "trainer's retrain listener and the ranker on :8080; bootstrap it with a simulated history",
      "ending now and a first model trained on it, then simulate interactions in real time at a",
      "gentle rate. All on 127.0.0.1; preferred ports when free, else random ones.",
      "--stack-only starts just Kafka, Redis and the registry (every topic and schema created)."
    })
final class UpCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(
      names = "--kafka-port",
      defaultValue = "9092",
      description = "preferred Kafka port (default ${DEFAULT-VALUE})")
  int kafkaPort;

  @Option(
      names = "--redis-port",
      defaultValue = "6379",
      description = "preferred Redis port (default ${DEFAULT-VALUE})")
  int redisPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8081",
      description = "preferred registry port (default ${DEFAULT-VALUE})")
  int registryPort;

  @Option(
      names = "--partitions",
      defaultValue = "0",
      description =
          "partitions of the multi-partition topics. 0: the DESIGN's with --stack-only; 1 for the whole platform, so that its history, published flat out, cannot skew event time between partitions beyond the drift job's out-of-orderness")
  int partitions;

  @Option(
      names = "--dir",
      description =
          "state directory, new or empty, kept on exit to look into, up.log with it (default: a"
              + " fresh one under target/, deleted on exit, and target/up.log)")
  Path dir;

  @Option(
      names = "--simulate-rate",
      description =
          "play producers at this many events/s in real time (default 20; with --stack-only 0)")
  Double simulateRate;

  @Option(names = "--stack-only", description = "only Kafka, Redis and the registry")
  boolean stackOnly;

  @Option(
      names = "--ranker-port",
      defaultValue = "8080",
      description = "preferred ranker port (default ${DEFAULT-VALUE})")
  int rankerPort;

  @Option(
      names = "--ranker-config",
      description =
          "a ranker configuration key, KEY=VALUE, repeatable (e.g. rate.limit.per.second=5000 for"
              + " load tests past the default 1,000 requests/s)")
  Map<String, String> rankerConfig = new LinkedHashMap<>();

  @Option(
      names = "--history-hours",
      defaultValue = "4",
      description =
          "simulated hours up to now published (flat out) and trained on before serving (0 = none;"
              + " default ${DEFAULT-VALUE})")
  int historyHours;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "simulator seed (default ${DEFAULT-VALUE})")
  long seed;

  /** How the platform starts ({@link UpPlatform#start}). */
  interface Start {
    UpPlatform start(UpPlatform.Options options, Consumer<String> progress) throws Exception;
  }

  /** For tests: a start that blocks, say, to stop up in the middle of it. */
  Start start = UpPlatform::start;

  @Override
  public void run() {
    checkOptions();
    requireEmptyDir();
    // before anything starts or is written (the log, the ports, the announcement); held by UpLock
    // until this process ends, when the system drops it
    UpLock.acquire(System.getenv());
    if (!stackOnly) {
      runPlatform();
      return;
    }
    double simulateRate = this.simulateRate == null ? 0 : this.simulateRate;
    PrintWriter out = spec.commandLine().getOut();
    LocalStack.Builder b =
        LocalStack.builder()
            .kafkaPort(preferred(kafkaPort))
            .redisPort(preferred(redisPort))
            .registryPort(preferred(registryPort))
            .partitions(partitions);
    if (dir != null) {
      b.workDir(dir).deleteOnClose(false);
    }
    out.println("feedrank up: starting Kafka, Redis and the schema registry ...");
    out.flush();
    LocalStack stack = b.build().start();
    Endpoints endpoints =
        new Endpoints(stack.bootstrapServers(), stack.registryUrl(), null, stack.redisUri());
    Endpoints.writeUpState(System.getenv(), endpoints, ProcessHandle.current().pid());

    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    Thread simulator = simulateRate > 0 ? startSimulator(endpoints, stopping, simulateRate) : null;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  if (simulator != null) {
                    simulator.interrupt();
                  }
                  Endpoints.clearUpState(System.getenv(), ProcessHandle.current().pid());
                  stack.close();
                  stopped.countDown();
                },
                "feedrank-up-shutdown"));

    out.printf("%nfeedrank local stack is up in %.1f s%n", stack.startupTime().toMillis() / 1000.0);
    out.printf("  Kafka (KRaft)        %s%n", stack.bootstrapServers());
    out.printf(
        "  Schema registry      %s   (Confluent API; Apicurio UI API at /apis/registry/v3)%n",
        stack.registryUrl());
    out.printf("  Redis                %s%n", stack.redisUri());
    out.printf(
        "  Topics               %s%n",
        String.join(
            ", ",
            stack.topics().stream().map(t -> t.name() + "(" + t.partitions() + ")").toList()));
    out.printf("  State directory      %s%n", stack.workDir());
    if (simulator != null) {
      out.printf("  Simulator            %.0f events/s, real time, seed %d%n", simulateRate, seed);
    }
    out.printf(
        "%nOther commands find this stack by themselves (e.g. ./feedrank simulate --count 10000).%n");
    out.println("Press Ctrl-C to stop.");
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Thread startSimulator(Endpoints endpoints, AtomicBoolean stopping, double simulateRate) {
    Thread t =
        new Thread(
            () -> {
              SimulatorConfig config =
                  SimulatorConfig.defaults(seed, Instant.now()).withRealTime(true);
              try (SimulatorPublisher p =
                  new SimulatorPublisher(
                      endpoints.clientConfig(), SimulatorPublisher.TopicNames.defaults())) {
                p.publish(
                    new InteractionSimulator(config),
                    new SimulatorPublisher.Run(
                        0, java.time.Duration.ofDays(365), simulateRate, true),
                    () -> stopping.get() || Thread.currentThread().isInterrupted());
              } catch (RuntimeException e) {
                if (!stopping.get()) {
                  spec.commandLine()
                      .getErr()
                      .println("feedrank up: simulator stopped: " + e.getMessage());
                }
              }
            },
            "feedrank-up-simulator");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * The options, before anything starts: ports within range, no negative amounts, the platform's
   * options not given with --stack-only (which would ignore them), and the ranker's keys as the
   * ranker will read them, which it otherwise does after a minute of starting the rest.
   */
  void checkOptions() {
    String problem = problem();
    if (problem != null) {
      throw new ParameterException(spec.commandLine(), problem);
    }
    if (!stackOnly) {
      RankerKeys.check(spec, rankerConfig);
    }
  }

  private String problem() {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("--kafka-port", kafkaPort);
    ports.put("--redis-port", redisPort);
    ports.put("--registry-port", registryPort);
    ports.put("--ranker-port", rankerPort);
    for (var port : ports.entrySet()) {
      if (port.getValue() < 0 || port.getValue() > 65535) {
        return port.getKey() + " must be within 0..65535 (0: a random one), got " + port.getValue();
      }
    }
    if (partitions < 0) {
      return "--partitions must be 0 or more, got " + partitions;
    }
    if (historyHours < 0) {
      return "--history-hours must be 0 or more, got " + historyHours;
    }
    if (simulateRate != null && !(simulateRate >= 0 && simulateRate < 1e6)) {
      return "--simulate-rate must be within [0, 1e6) events/s, got " + simulateRate;
    }
    if (stackOnly) {
      CommandLine.ParseResult given = spec.commandLine().getParseResult();
      for (String platformOnly : List.of("--ranker-port", "--ranker-config", "--history-hours")) {
        if (given != null && given.hasMatchedOption(platformOnly)) {
          return platformOnly
              + " is for the whole platform: --stack-only starts no ranker and publishes no"
              + " history";
        }
      }
      return null;
    }
    return null;
  }

  /**
   * A --dir must be new or empty: the state it keeps is for looking into after the stop, not for a
   * restart (Kafka's log is formatted for one cluster, the registry's schemas are in memory).
   */
  private void requireEmptyDir() {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var entries = Files.list(dir)) {
      if (entries.findAny().isPresent()) {
        throw new ParameterException(
            spec.commandLine(),
            "--dir "
                + dir
                + " is not empty: up keeps its state there to look into after the stop, and"
                + " cannot start again on it; give a new directory");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read --dir " + dir, e);
    }
  }

  private void runPlatform() {
    PrintWriter out = spec.commandLine().getOut();
    double rate = simulateRate == null ? 20 : simulateRate;
    Path home = Path.of(System.getenv().getOrDefault("FEEDRANK_HOME", "."));
    boolean fresh = dir == null;
    Path state =
        (fresh ? home.resolve("target").resolve("up-" + ProcessHandle.current().pid()) : dir)
            .toAbsolutePath();
    // with the rest of a --dir's state, kept to look into; a fresh state directory is deleted on
    // exit, the log not
    Path logFile = (fresh ? home.resolve("target") : state).resolve("up.log");
    LogFiles.redirect(logFile);
    out.println(
        "feedrank up: starting the platform on the local stack (logs: " + logFile + ") ...");
    out.flush();
    // registered before the start, which takes a minute or two: a Ctrl-C meanwhile stops what
    // started (the platform's own hook) and interrupts the start, which then cleans up (the first
    // model's training stops only on an interrupt, and runs up to a minute); this hook waits for
    // that, then deletes the state directory, which the platform's hook leaves
    AtomicReference<UpPlatform> running = new AtomicReference<>();
    AtomicBoolean stopping = new AtomicBoolean();
    CountDownLatch startEnded = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    long pid = ProcessHandle.current().pid();
    Thread starting = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  if (startEnded.getCount() > 0) {
                    starting.interrupt(); // if it ended meanwhile, it stops at detachShutdownHook
                  }
                  awaitQuietly(startEnded, 60);
                  Endpoints.clearUpState(System.getenv(), pid);
                  UpPlatform up = running.get();
                  if (up != null) {
                    up.close();
                  } else if (fresh) {
                    UpPlatform.deleteTree(state);
                  }
                  stopped.countDown();
                },
                "feedrank-up-shutdown"));
    UpPlatform up;
    try {
      up =
          start.start(
              new UpPlatform.Options(
                  state,
                  fresh,
                  preferred(kafkaPort),
                  preferred(redisPort),
                  preferred(registryPort),
                  preferred(rankerPort),
                  preferred(9401),
                  preferred(9249),
                  preferred(9402),
                  partitions == 0 ? 1 : partitions,
                  seed,
                  // the demo's population: dense enough for the first model to beat the baseline
                  SimulatorConfig.DEMO_USERS,
                  SimulatorConfig.DEMO_ITEMS,
                  Duration.ofHours(historyHours),
                  rate,
                  rankerConfig),
              s -> {
                out.println("  " + s);
                out.flush();
              });
      running.set(up); // before the hook may look: it closes a started platform whole
    } catch (Exception e) {
      if (stopping.get()) {
        // Ctrl-C mid-start: what failed then failed because it was being closed (a training run
        // reaching ONNX Runtime after it was torn down, say), not on its own
        spec.commandLine().getErr().println("feedrank up: stopped before the platform was up");
        return;
      }
      throw new IllegalStateException("the platform did not start: " + e.getMessage(), e);
    } finally {
      startEnded.countDown();
    }
    try {
      // from here the hook above closes everything, the real-time traffic before the platform
      up.platform().detachShutdownHook();
    } catch (IllegalStateException shuttingDown) {
      return; // a Ctrl-C as the start ended: both hooks are closing it
    }
    LocalStack stack = up.platform().stack();
    Endpoints endpoints =
        new Endpoints(stack.bootstrapServers(), stack.registryUrl(), null, stack.redisUri());
    String ranker = "http://127.0.0.1:" + up.platform().ranker().port();
    Endpoints.writeUpState(System.getenv(), endpoints, pid, state.resolve("artifacts"), ranker);
    if (stopping.get()) {
      Endpoints.clearUpState(System.getenv(), pid); // the hook may have cleared before the write
      return;
    }
    String rankerOps = "http://127.0.0.1:" + up.platform().ranker().managementPort();
    var metrics = up.platform().features().metricsServer();
    out.printf("%nfeedrank platform is up%n");
    out.printf("  Kafka (KRaft)        %s%n", stack.bootstrapServers());
    out.printf("  Schema registry      %s   (Confluent API)%n", stack.registryUrl());
    out.printf("  Redis                %s%n", stack.redisUri());
    out.printf("  Ranker               POST %s/v1/rank   (also POST %s/predict)%n", ranker, ranker);
    out.printf(
        "                       GET  %s/health  %s/health/ready  %s/health/live%n",
        rankerOps, rankerOps, rankerOps);
    out.printf("                       GET  %s/metrics  %s/v1/config%n", rankerOps, ranker);
    out.printf(
        "  streams-features     %s%n",
        metrics == null
            ? "metrics off"
            : "metrics http://127.0.0.1:" + metrics.port() + "/metrics");
    out.printf(
        "  flink-drift          running on a Flink MiniCluster in this process; metrics %s%n",
        up.flinkMetricsUrl());
    int trainerMetrics = up.platform().trainer().metrics().port();
    out.printf(
        "  trainer              listening on retrain-commands; artifacts in %s; metrics %s%n",
        state.resolve("artifacts"),
        trainerMetrics > 0 ? "http://127.0.0.1:" + trainerMetrics + "/metrics" : "off");
    out.printf(
        "  First model          %s (history: %,d events)%n", up.firstModel(), up.historyEvents());
    out.printf("  Simulator            %.0f events/s in real time, seed %d%n", rate, seed);
    out.printf("  State directory      %s%s%n", state, fresh ? " (deleted on exit)" : "");
    out.printf(
        "%nTry:%n  curl -s -X POST %s/v1/rank -H 'Content-Type: application/json' \\%n", ranker);
    out.printf(
        "    -d '{\"user_id\": 42, \"item_ids\": [1, 2, 3, 17, 99], \"context\": {\"device\": \"mobile\"}, \"top_k\": 3}'%n");
    out.printf(
        "  ./feedrank registry list      ./feedrank runs list --artifact-store %s%n",
        state.resolve("artifacts"));
    // the simulator's default world would replace this one's catalog, and the drift job would
    // rightly see item_category move and retrain
    out.printf(
        "  ./feedrank simulate --users %d --items %d --no-catalog --count 10000   (more traffic in"
            + " this world)%n",
        SimulatorConfig.DEMO_USERS, SimulatorConfig.DEMO_ITEMS);
    out.println("Other commands find this stack by themselves. Press Ctrl-C to stop.");
    out.flush();
    // a part that stops on an error for good says so here, not only in the log: the rest runs on
    // without it (the ranker serves, but features or retrains no longer move)
    PrintWriter err = spec.commandLine().getErr();
    up.platform()
        .features()
        .failed()
        .thenRun(
            () ->
                stoppedPart(
                    err,
                    "streams-features stopped on an error: features in Redis and training"
                        + " examples are no longer updated",
                    logFile));
    up.platform()
        .listen()
        .failed()
        .thenRun(
            () ->
                stoppedPart(
                    err,
                    "the trainer's retrain listener stopped on an error: no more retrains",
                    logFile));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void stoppedPart(PrintWriter err, String what, Path log) {
    err.println(
        "feedrank up: "
            + what
            + " (see "
            + log
            + "); stop with Ctrl-C and start ./feedrank up again");
    err.flush();
  }

  private static void awaitQuietly(CountDownLatch latch, int seconds) {
    try {
      latch.await(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int preferred(int port) {
    return port > 0 && !Ports.isListening(port) ? port : 0;
  }
}
