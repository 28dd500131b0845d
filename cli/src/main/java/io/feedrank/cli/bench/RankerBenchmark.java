package io.feedrank.cli.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ModelRow;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.localstack.LocalStack;
import io.feedrank.models.Checksums;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.models.onnx.Dense;
import io.feedrank.models.onnx.Embedding;
import io.feedrank.models.onnx.MlpWeights;
import io.feedrank.models.onnx.ModelMetadata;
import io.feedrank.models.onnx.OnnxExport;
import io.feedrank.models.onnx.TwoTowerWeights;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code ./feedrank bench ranker}. On one local stack with simulator features in Redis and a deep
 * MLP of the DESIGN size (ID embeddings, 512-256-128): (1) bare ONNX Runtime scoring of the same
 * batches in process, on the ranker's intra-op threads, alone and two at once (the baseline); (2)
 * the ranker and a load generator, each in its own JVM: saturation throughput (closed loop), with
 * the CPU each process used per request, and latency at half of it (open loop, no coordinated
 * omission), at 100 and 1,000 candidates; (3) the same for a two-tower model at 1,000 candidates,
 * item vectors cached.
 */
@Command(
    name = "ranker",
    mixinStandardHelpOptions = true,
    description = "Ranker latency and throughput against bare ONNX Runtime scoring.")
final class RankerBenchmark implements Callable<Integer> {
  static final int USER_BUCKETS = 50_000;
  static final int ITEM_BUCKETS = 100_000;
  static final int EMBEDDING_DIM = 32;

  /** Options added to the load generator's JVM (e.g. a GC log). */
  static final String LOADGEN_JAVA_OPTS_ENV = "FEEDRANK_BENCH_LOADGEN_JAVA_OPTS";

  @Spec CommandSpec spec;

  @Option(names = "--runs", defaultValue = "3", description = "runs (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--seconds",
      defaultValue = "15",
      description = "seconds per load phase (default ${DEFAULT-VALUE})")
  int seconds;

  @Option(
      names = "--warmup",
      defaultValue = "20",
      description =
          "seconds of warm-up load before each measured configuration, at least (default"
              + " ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--max-warmup",
      defaultValue = "120",
      description =
          "after --warmup, warm up in 5 s steps while the ranker's JIT still compiles more than"
              + " --jit-quiet milliseconds per second, up to this many seconds in all (default"
              + " ${DEFAULT-VALUE}; --max-warmup at or below --warmup: fixed warm-up)")
  int maxWarmup;

  @Option(
      names = "--jit-quiet",
      defaultValue = "50",
      description =
          "JIT compile milliseconds per second below which the ranker counts as warm (default"
              + " ${DEFAULT-VALUE})")
  double jitQuiet;

  @Option(
      names = "--concurrency",
      defaultValue = "8",
      description = "closed-loop clients for saturation (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(
      names = "--events",
      defaultValue = "300000",
      description = "simulator events folded into Redis features (default ${DEFAULT-VALUE})")
  int events;

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  @Option(
      names = "--phases",
      split = ",",
      defaultValue = "c100,c1000,two_tower",
      description =
          "configurations to measure, of c100, c1000, two_tower, cold (default ${DEFAULT-VALUE});"
              + " the MLP ones also measure their bare baseline; cold: a fresh ranker's first"
              + " --cold-windows of load, without and with its warm-up")
  List<String> phases;

  @Option(
      names = "--cold-rate",
      defaultValue = "400",
      description = "requests/s of the cold phase, 100 candidates each (default ${DEFAULT-VALUE})")
  double coldRate;

  @Option(
      names = "--cold-seconds",
      defaultValue = "30",
      description = "seconds of each window of the cold phase (default ${DEFAULT-VALUE})")
  int coldSeconds;

  @Option(
      names = "--cold-windows",
      defaultValue = "3",
      description = "windows of load the cold phase measures in a row (default ${DEFAULT-VALUE})")
  int coldWindows;

  @Option(
      names = "--ranker-config",
      description =
          "a ranker configuration key for the ranker under test, KEY=VALUE, repeatable (e.g."
              + " cache.max.entries=100000)")
  Map<String, String> rankerConfig = new LinkedHashMap<>();

  @Option(
      names = "--scrape-every",
      defaultValue = "1000",
      description =
          "milliseconds between the reads of the ranker's /metrics and /health/ready during the"
              + " run, as Prometheus and a readiness probe make them (default ${DEFAULT-VALUE})")
  long scrapeEveryMillis;

  @Option(
      names = "--generator-nice",
      defaultValue = "0",
      description =
          "the load generator's niceness, 0 to 19 (default ${DEFAULT-VALUE}): above 0 the"
              + " scheduler gives a runnable ranker thread a core before the generator, and the"
              + " generator's latencies include more of its own wait for a core")
  int generatorNice;

  @Option(
      names = "--mlp-layers",
      split = ",",
      defaultValue = "512,256,128",
      description =
          "hidden layer widths of the deep MLP (default ${DEFAULT-VALUE}, the DESIGN size);"
              + " another size shows how the ratios to bare scoring depend on what the model"
              + " call costs")
  List<Integer> mlpLayers;

  private PrintWriter w;

  /** The ranker's {@code onnx.intra.op.threads}, which bare scoring runs on too. */
  private int onnxThreads;

  /** The configurations whose requests were not all answered 200, by run ({@link #addRun}). */
  private final List<String> errors = new ArrayList<>();

  /** The p999 figures of too few requests, by run ({@link #thinP999}). */
  private final List<String> thinP999Figures = new ArrayList<>();

  /** The fewest requests a p999 figure is taken over without a note. */
  static final int P999_MIN_REQUESTS = 10_000;

  @Override
  public Integer call() throws Exception {
    w = spec.commandLine().getOut();
    BenchCommand.atLeastOne(
        spec,
        "--runs",
        runs,
        "--seconds",
        seconds,
        "--concurrency",
        concurrency,
        "--events",
        events,
        "--scrape-every",
        scrapeEveryMillis,
        "--cold-seconds",
        coldSeconds,
        "--cold-windows",
        coldWindows);
    // found only minutes later otherwise, the stack set up and features written: a scrape period
    // of 0 failed in scheduleAtFixedRate, a cold rate of 0 sent at intervals that overflowed
    if (warmup < 0 || maxWarmup < 0) {
      throw new ParameterException(
          spec.commandLine(),
          (warmup < 0 ? "--warmup" : "--max-warmup")
              + " must be 0 or more, got "
              + (warmup < 0 ? warmup : maxWarmup));
    }
    if (!(coldRate > 0) || Double.isInfinite(coldRate)) {
      throw new ParameterException(
          spec.commandLine(), "--cold-rate must be a finite number > 0, got " + coldRate);
    }
    mlpCandidates(); // --phases, checked
    // the ranker's keys as it will read them, before the stack starts
    if (rankerConfig.containsKey("management.port")) {
      throw new ParameterException(
          spec.commandLine(),
          "bench ranker reads /health and /metrics on the ranker's own port: leave management.port"
              + " out of --ranker-config");
    }
    onnxThreads = io.feedrank.cli.RankerKeys.check(spec, rankerConfig).onnxIntraOpThreads();
    if (mlpLayers.isEmpty() || mlpLayers.stream().anyMatch(n -> n < 1 || n > 16_384)) {
      throw new ParameterException(spec.commandLine(), "--mlp-layers: widths of 1 to 16384");
    }
    BenchReport report = new BenchReport("ranker");
    report.note(
        "model",
        "deep MLP: 71 dense inputs + user/item ID embeddings "
            + USER_BUCKETS
            + "x"
            + EMBEDDING_DIM
            + " / "
            + ITEM_BUCKETS
            + "x"
            + EMBEDDING_DIM
            + ", hidden "
            + mlpLayers.stream().map(String::valueOf).collect(Collectors.joining("-"))
            + " (BatchNorm folded), sigmoid; two-tower: towers 256-128-64");
    report.note(
        "setup",
        "the local stack (broker in this JVM; Redis, registry), the ranker (`feedrank ranker`, its"
            + " own JVM, "
            + onnxThreads
            + " ONNX intra-op thread(s) per call, its event loops for concurrency) and the"
            + " load generator (its own JVM, plain keep-alive HTTP/1.1 sockets, one per client"
            + " thread), all on the same 2 cores; bare scoring in this JVM with the stack idle, on"
            + " as many intra-op threads as the ranker"
            + (onnxThreads > 1
                ? " (its CPU per call not measured: ONNX Runtime's own threads)"
                : ""));
    report.note("seconds_per_phase", seconds);
    report.note("warmup_seconds_per_configuration", warmup);
    report.note(
        "warmup_until",
        "the ranker's JIT compiles at most "
            + jitQuiet
            + " ms per second (5 s steps), at most "
            + maxWarmup
            + " s");
    report.note("closed_loop_clients", concurrency);
    report.note("ranker_config", rankerConfig);
    report.note("scrape_every_ms", scrapeEveryMillis);
    if (generatorNice < 0 || generatorNice > 19) {
      throw new ParameterException(spec.commandLine(), "--generator-nice: 0 to 19");
    }
    report.note("generator_nice", generatorNice);
    if (phases.contains("cold")) {
      report.note(
          "cold",
          "a fresh ranker without, then with its warm-up, from readiness: "
              + coldWindows
              + " windows of "
              + coldSeconds
              + " s at "
              + coldRate
              + " requests/s of 100 candidates, the generator measuring from its first request");
    }
    Path home = Paths.get(System.getenv().getOrDefault("FEEDRANK_HOME", "."));
    Path work = Files.createDirectories(home.resolve("target").resolve("bench-ranker"));
    try (LocalStack stack = LocalStack.builder().build().start()) {
      SimulatorConfig sim = SimulatorConfig.defaults(1, Instant.parse("2026-11-01T00:00:00Z"));
      long endMillis = writeFeatures(stack, sim);
      w.printf("features of %d events in Redis%n", events);
      w.flush();
      Random r = new Random(42);
      byte[] mlp = OnnxExport.mlp(mlpWeights(r, mlpLayers), meta("mlp"));
      TwoTowerWeights tt = twoTowerWeights(r);
      FileArtifactStore store = new FileArtifactStore(work.resolve("artifacts"));
      String model = "bench-" + System.currentTimeMillis();
      for (int run = 1; run <= runs; run++) {
        Map<String, Double> f = new LinkedHashMap<>();
        for (int c : mlpCandidates()) {
          double[] b = bare(mlp, sim, endMillis, c, c == 100 ? 400 : 60, onnxThreads);
          f.put("c" + c + "_bare_onnx_p50_ms", b[0]);
          if (!Double.isNaN(b[1])) {
            f.put("c" + c + "_bare_onnx_cpu_ms", b[1]);
          }
          f.put("bare_onnx_c" + c + "_max_rps", b[2]);
          // what the tables before 2026-11-24 used: twice one thread's rate
          f.put("bare_onnx_c" + c + "_max_rps_from_p50", 2 * 1000.0 / b[0]);
        }
        publish(stack, store, model, "mlp-" + run, "mlp", mlp, Map.of());
        if (phases.contains("cold")) {
          cold(stack, store, model, "mlp-" + run, run, work, f);
          if (mlpCandidates().length == 0 && !phases.contains("two_tower")) {
            addRun(report, run, f);
            continue;
          }
        }
        try (RankerProcess app = RankerProcess.start(config(stack, store, model), work)) {
          app.awaitVersion("mlp-" + run);
          app.awaitReady(); // its own warm-up done, before the benchmark's
          app.scrapeEvery(Duration.ofMillis(scrapeEveryMillis));
          String url = app.rankUrl();
          Map<String, Long> pids = new LinkedHashMap<>();
          pids.put("ranker", app.pid());
          pids.putAll(stack.processes());
          for (int c : mlpCandidates()) {
            app.scrapes(); // this configuration's reads only
            JsonNode sat = saturate(url, c, run, pids, f, "c" + c + "_");
            double maxRps = sat.get("rps").asDouble();
            JsonNode lat = load(url, "open", 64, maxRps / 2, seconds, c, run, pids);
            String k = "c" + c + "_";
            server(lat).forEach((key, value) -> f.put(k + key, value));
            f.put(k + "max_rps", maxRps);
            f.put(k + "p50_ms", lat.get("p50_ms").asDouble());
            f.put(k + "p99_ms", lat.get("p99_ms").asDouble());
            f.put(k + "p999_ms", lat.get("p999_ms").asDouble());
            f.put(k + "requests", lat.get("requests").asDouble());
            f.put(k + "send_late_p99_ms", lat.get("send_late_p99_ms").asDouble());
            f.put(k + "half_wait_ms_per_request_ranker_loops", loopsWaitPerRequest(lat));
            f.put(k + "errors", sat.get("errors").asDouble() + lat.get("errors").asDouble());
            f.put(
                k + "server_p50_to_bare_ratio",
                lat.get("p50_ms").asDouble() / f.get(k + "bare_onnx_p50_ms"));
            f.put(
                k + "server_side_p50_to_bare_ratio",
                f.get(k + "server_side_p50_ms") / f.get(k + "bare_onnx_p50_ms"));
            f.put(k + "saturation_to_bare_ratio", maxRps / f.get("bare_onnx_" + k + "max_rps"));
            // a tenth of the saturation rate, before the floor phase changes what the JIT sees: the
            // cores mostly idle, so little else competes with a request for them
            JsonNode light = phase(url, "open", 64, maxRps / 10, c, run, pids, f, k, "light");
            // one client, each request sent when the last is answered: a request's latency with
            // no other request on the cores, so no second model call running beside it — the way
            // the bare figure is taken — while the ranker's core is kept busy and its caches warm
            JsonNode one = phase(url, "closed", 1, 0, c, run, pids, f, k, "sequential");
            // the same schedule of requests the ranker answers at once: what of the latencies
            // above is the generator, the loopback and the HTTP layer on these two cores
            JsonNode floor = load(app.liveUrl(), "open", 64, maxRps / 2, seconds, 0, run, pids);
            f.put(k + "floor_p50_ms", floor.get("p50_ms").asDouble());
            f.put(k + "floor_p99_ms", floor.get("p99_ms").asDouble());
            f.put(k + "floor_send_late_p99_ms", floor.get("send_late_p99_ms").asDouble());
            double[] scrapes = app.scrapes();
            f.put(k + "metrics_scrape_p50_ms", scrapes[0]);
            f.put(k + "metrics_chars", scrapes[1]);
            w.printf(
                "run %d: %d candidates: saturation %s, at half: %s, floor: %s, at a tenth: %s,"
                    + " one at a time: %s%n",
                run, c, sat, lat, floor, light, one);
            w.flush();
          }
          if (!phases.contains("two_tower")) {
            addRun(report, run, f);
            continue;
          }
          byte[] user = OnnxExport.userTower(tt, meta("two_tower"));
          byte[] item = OnnxExport.itemTower(tt, meta("two_tower"));
          Map<String, String> towers = new HashMap<>();
          towers.put(
              ModelInputs.ROLE_USER_TOWER,
              store.put(model + "-tt" + run, "user.onnx", user).toString());
          towers.put(
              ModelInputs.ROLE_USER_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(user));
          towers.put(
              ModelInputs.ROLE_ITEM_TOWER,
              store.put(model + "-tt" + run, "item.onnx", item).toString());
          towers.put(
              ModelInputs.ROLE_ITEM_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(item));
          byte[] full = OnnxExport.twoTower(tt, meta("two_tower"));
          publish(stack, store, model, "tt-" + run, "two_tower", full, towers);
          app.awaitVersion("tt-" + run);
          JsonNode sat = saturate(url, 1000, run, pids, f, "two_tower_c1000_");
          JsonNode lat =
              load(url, "open", 64, sat.get("rps").asDouble() / 2, seconds, 1000, run, pids);
          server(lat).forEach((key, value) -> f.put("two_tower_c1000_" + key, value));
          f.put("two_tower_c1000_max_rps", sat.get("rps").asDouble());
          f.put(
              "two_tower_c1000_errors",
              sat.get("errors").asDouble() + lat.get("errors").asDouble());
          f.put("two_tower_c1000_p50_ms", lat.get("p50_ms").asDouble());
          f.put("two_tower_c1000_p99_ms", lat.get("p99_ms").asDouble());
          f.put("two_tower_c1000_requests", lat.get("requests").asDouble());
          f.put("two_tower_c1000_send_late_p99_ms", lat.get("send_late_p99_ms").asDouble());
          f.put("two_tower_c1000_half_wait_ms_per_request_ranker_loops", loopsWaitPerRequest(lat));
          JsonNode floor =
              load(app.liveUrl(), "open", 64, sat.get("rps").asDouble() / 2, seconds, 0, run, pids);
          f.put("two_tower_c1000_floor_p50_ms", floor.get("p50_ms").asDouble());
          f.put("two_tower_c1000_floor_p99_ms", floor.get("p99_ms").asDouble());
          f.put("two_tower_c1000_floor_send_late_p99_ms", floor.get("send_late_p99_ms").asDouble());
          w.printf(
              "run %d: two-tower 1000 candidates: saturation %s, at half: %s, floor: %s%n",
              run, sat, lat, floor);
        }
        addRun(report, run, f);
      }
    }
    Path file = report.write(out != null ? out : BenchReport.defaultDir());
    w.printf("medians: %s%nwritten %s%n", report.figures(), file);
    if (!errors.isEmpty()) {
      w.printf(
          "requests failed (rates and latencies are of the 200s only): %s%n",
          String.join("; ", errors));
    }
    return 0;
  }

  /**
   * Adds a run's figures to the report. Requests not answered 200 (a 429 past a rate limit set with
   * {@code --ranker-config}, a 5xx, no answer) are left out of every rate and latency, which are of
   * the 200s only; each configuration that had some is named in the report's {@code errors} note
   * and on the console, so that its figures are not taken for those of a clean run.
   */
  private void addRun(BenchReport report, int run, Map<String, Double> f) {
    report.addRun(f);
    f.forEach(
        (key, value) -> {
          if (key.endsWith("errors") && value > 0) {
            errors.add("run " + run + ": " + key + " " + value.longValue());
          }
        });
    if (!errors.isEmpty()) {
      report.note("errors", errors);
    }
    thinP999Figures.addAll(thinP999(run, f));
    if (!thinP999Figures.isEmpty()) {
      report.note("p999_under_10000_requests", thinP999Figures);
    }
    w.printf("run %d: %s%n", run, f);
    w.flush();
  }

  /**
   * The {@code …_p999_ms} figures of a run taken over fewer than {@link #P999_MIN_REQUESTS}
   * requests (their {@code …_requests}), named with their count: below that a p999 is one of the
   * ten highest latencies, at 1,000 candidates (1,750 to 4,100 requests in 15 s at half the
   * saturation rate) the second to fourth highest. The key stays, as DESIGN names it.
   */
  static List<String> thinP999(int run, Map<String, Double> f) {
    List<String> thin = new ArrayList<>();
    f.forEach(
        (key, value) -> {
          Double n = key.endsWith("_p999_ms") ? f.get(key.replace("_p999_ms", "_requests")) : null;
          if (n != null && n < P999_MIN_REQUESTS) {
            thin.add("run " + run + ": " + key + " of " + n.longValue() + " requests");
          }
        });
    return thin;
  }

  /**
   * The cold phase: a fresh ranker (a JVM of its own, as a new pod) started without its warm-up,
   * then one started with it ({@code warmup.requests} of {@code --ranker-config}, else the ranker's
   * default), each measured from readiness on: {@code --cold-windows} windows in a row of {@code
   * --cold-rate} requests/s for {@code --cold-seconds}, the generator's latency from the first
   * request (no warm-up of its own), the ranker's own from its histogram, and the JIT's compile
   * milliseconds in each window. Figures {@code cold_off_…} and {@code cold_on_…}: {@code ready_s}
   * from the process's start, {@code wN_p50_ms}, {@code wN_p99_ms}, {@code wN_server_side_p50_ms},
   * {@code wN_server_side_p99_ms}, {@code wN_jit_ms}.
   */
  private void cold(
      LocalStack stack,
      FileArtifactStore store,
      String model,
      String version,
      int run,
      Path work,
      Map<String, Double> f)
      throws Exception {
    for (boolean on : new boolean[] {false, true}) {
      Map<String, String> c = config(stack, store, model);
      if (!on) {
        c.put("warmup.requests", "0");
      }
      String k = on ? "cold_on_" : "cold_off_";
      long t0 = System.nanoTime();
      try (RankerProcess app = RankerProcess.start(c, work)) {
        app.awaitVersion(version);
        app.awaitReady();
        f.put(k + "ready_s", (System.nanoTime() - t0) / 1e9);
        f.put(k + "jit_ms_at_ready", app.jitMillis());
        app.scrapeEvery(Duration.ofMillis(scrapeEveryMillis));
        Map<String, Long> pids = new LinkedHashMap<>();
        pids.put("ranker", app.pid());
        pids.putAll(stack.processes());
        for (int window = 1; window <= coldWindows; window++) {
          JsonNode lat = load(app.rankUrl(), "open", 64, coldRate, coldSeconds, 100, run, pids, 0);
          Map<String, Double> times = server(lat);
          String p = k + "w" + window + "_";
          f.put(p + "p50_ms", lat.get("p50_ms").asDouble());
          f.put(p + "p99_ms", lat.get("p99_ms").asDouble());
          f.put(p + "server_side_p50_ms", times.get("server_side_p50_ms"));
          f.put(p + "server_side_p99_ms", times.get("server_side_p99_ms"));
          f.put(p + "jit_ms", lat.get("server_jit_ms").asDouble());
          f.merge(k + "errors", lat.get("errors").asDouble(), Double::sum);
          w.printf(
              "run %d: cold, warm-up %s, window %d: %s%n", run, on ? "on" : "off", window, lat);
          w.flush();
        }
      }
    }
  }

  /** The candidate counts of the MLP configurations in {@code --phases}. */
  private int[] mlpCandidates() {
    for (String p : phases) {
      if (!p.equals("c100") && !p.equals("c1000") && !p.equals("two_tower") && !p.equals("cold")) {
        throw new ParameterException(
            spec.commandLine(), "--phases: unknown " + p + " (c100, c1000, two_tower, cold)");
      }
    }
    return IntStream.of(100, 1000).filter(c -> phases.contains("c" + c)).toArray();
  }

  /**
   * One saturation phase after its warm-up: closed-loop load for {@code --seconds}, with the
   * warm-up's length, the JIT's rate while measuring and the CPU per request (figures {@code prefix
   * + …}). Returns the load generator's result.
   */
  private JsonNode saturate(
      String url,
      int candidates,
      int run,
      Map<String, Long> pids,
      Map<String, Double> f,
      String prefix)
      throws Exception {
    f.put(prefix + "warmup_s", warmUp(url, candidates, run, pids));
    JsonNode sat = load(url, "closed", concurrency, 0, seconds, candidates, run, pids);
    f.put(prefix + "jit_ms_per_s", jitRate(sat));
    cpuPerRequest(sat, f, prefix);
    return sat;
  }

  /**
   * Warms the ranker up with closed-loop load: {@code --warmup} seconds, then 5 s steps while its
   * JIT compiled more than {@code --jit-quiet} ms per second in the last step, until {@code
   * --max-warmup} seconds in all. On two busy cores the C2 compiler gets little CPU, and it was
   * still compiling the HTTP stack's code 30 s into the load (15% of the ranker's CPU in the
   * measured phase): a fixed 20 s measured a ranker still compiling. Returns the seconds spent.
   */
  private double warmUp(String url, int candidates, int run, Map<String, Long> pids)
      throws Exception {
    long t0 = System.nanoTime();
    load(url, "closed", concurrency, 0, warmup, candidates, run, pids);
    while ((System.nanoTime() - t0) / 1e9 + 5 <= maxWarmup) {
      if (jitRate(load(url, "closed", concurrency, 0, 5, candidates, run, pids)) <= jitQuiet) {
        break;
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** The ranker's JIT compile milliseconds per second of a load's measured window. */
  private static double jitRate(JsonNode load) {
    return load.get("server_jit_ms").asDouble() / load.get("seconds").asDouble();
  }

  /**
   * The ranker's own figures over a load's measured window, as the load generator read them from
   * its {@code /metrics} ({@link ServerTimes#into} keys); NaN where it wrote null (no counts).
   */
  static Map<String, Double> server(JsonNode load) {
    Map<String, Double> m = new LinkedHashMap<>();
    load.path("server")
        .fields()
        .forEachRemaining(
            e -> m.put(e.getKey(), e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN));
    return m;
  }

  /**
   * Where the two cores went in a saturation phase: CPU milliseconds per answered request of each
   * process (the ranker, the load generator, the broker's JVM, Redis, the registry), of the machine
   * as a whole, and of the hypervisor's other guests ({@code steal}). For the 100- and
   * 1,000-candidate MLP phases, also {@code ranker_cpu_to_bare_cpu}: the ranker's CPU per request
   * over the CPU of the bare model call on the same batch, the cost of everything the ranker does
   * around the model. If the ranker had the cores alone its saturation would be about the bare rate
   * divided by this.
   */
  private static void cpuPerRequest(JsonNode sat, Map<String, Double> f, String prefix) {
    double requests = sat.get("requests").asDouble();
    JsonNode cpu = sat.get("cpu_ms");
    if (requests <= 0 || cpu == null) {
      return;
    }
    cpu.fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNumber() && !e.getKey().startsWith(CpuUse.WAIT_PREFIX)) {
                f.put(
                    prefix + "cpu_ms_per_request_" + e.getKey(),
                    e.getValue().asDouble() / requests);
              }
            });
    f.put(prefix + "wait_ms_per_request_ranker_loops", loopsWaitPerRequest(sat));
    Double ranker = f.get(prefix + "cpu_ms_per_request_ranker");
    Double bare = f.get(prefix + "bare_onnx_cpu_ms");
    if (ranker != null && bare != null && bare > 0) {
      f.put(prefix + "ranker_cpu_to_bare_cpu", ranker / bare);
    }
  }

  /**
   * A latency phase besides the half-rate one, its figures named {@code k + name + "_…"}: the rate,
   * the generator's p50, the ranker's own p50 and its ratio to bare, the inference timer's mean,
   * and the event loops' CPU and wait for a core per request. Returns the generator's result.
   */
  private JsonNode phase(
      String url,
      String mode,
      int clients,
      double rate,
      int candidates,
      int run,
      Map<String, Long> pids,
      Map<String, Double> f,
      String k,
      String name)
      throws Exception {
    JsonNode r = load(url, mode, clients, rate, seconds, candidates, run, pids);
    Map<String, Double> times = server(r);
    String p = k + name + "_";
    f.put(p + "rps", r.get("rps").asDouble());
    f.put(p + "p50_ms", r.get("p50_ms").asDouble());
    f.put(p + "server_side_p50_ms", times.get("server_side_p50_ms"));
    f.put(
        p + "server_side_p50_to_bare_ratio",
        times.get("server_side_p50_ms") / f.get(k + "bare_onnx_p50_ms"));
    f.put(p + "inference_mean_ms", times.get("inference_mean_ms"));
    f.put(
        p + "cpu_ms_per_request_ranker_loops",
        r.path("cpu_ms").path("ranker_loops").asDouble()
            / Math.max(1, r.get("requests").asDouble()));
    f.put(p + "wait_ms_per_request_ranker_loops", loopsWaitPerRequest(r));
    f.merge(k + "errors", r.get("errors").asDouble(), Double::sum);
    return r;
  }

  /**
   * Milliseconds per answered request that the ranker's event loops spent runnable but waiting for
   * a core, in a load phase ({@link CpuUse.Threads#loopsWaitMillis}); NaN when not known.
   */
  static double loopsWaitPerRequest(JsonNode load) {
    double requests = load.path("requests").asDouble();
    JsonNode wait = load.path("cpu_ms").path(CpuUse.WAIT_PREFIX + CpuUse.BY_THREAD + "_loops");
    return requests > 0 && wait.isNumber() ? wait.asDouble() / requests : Double.NaN;
  }

  /**
   * Server-side times between two readings of the timers: the means of the request, Redis and
   * inference timers, and the quantiles of the rank requests' latency inside the ranker (from the
   * first byte it handles to the response handed to the socket) from the buckets of its histogram,
   * interpolated within a bucket as Prometheus's {@code histogram_quantile} does.
   */
  record ServerTimes(
      double[] totalMs,
      double[] counts,
      double hits,
      double misses,
      double fallbacks,
      double[] bucketMs,
      double[] cumulative) {
    static final int REDIS = 1; // the index of the Redis timer

    static final String[] TIMERS = {
      "ranker.request.latency", "ranker.redis.latency", "ranker.inference.latency"
    };
    static final String[] KEYS = {"server_mean_ms", "redis_mean_ms", "inference_mean_ms"};

    /**
     * The series of each timer counted: the rank endpoint's requests; the Redis reads a request
     * waited for, not the background refresh's; every inference.
     */
    static final String[] LABELS = {"endpoint=\"/v1/rank\"", "path=\"request\"", ""};

    ServerTimes minus(ServerTimes o) {
      double[] t = totalMs.clone();
      double[] n = counts.clone();
      for (int i = 0; i < t.length; i++) {
        t[i] -= o.totalMs[i];
        n[i] -= o.counts[i];
      }
      double[] c = cumulative.clone();
      if (java.util.Arrays.equals(bucketMs, o.bucketMs)) {
        for (int i = 0; i < c.length; i++) {
          c[i] -= o.cumulative[i];
        }
      }
      return new ServerTimes(
          t, n, hits - o.hits, misses - o.misses, fallbacks - o.fallbacks, bucketMs, c);
    }

    /**
     * The {@code q} quantile in ms: in the first bucket whose cumulative count reaches {@code q} of
     * all, linearly between its lower and upper bound; NaN without counts.
     */
    double quantileMs(double q) {
      int last = cumulative.length - 1;
      if (last < 0 || cumulative[last] <= 0) {
        return Double.NaN;
      }
      double rank = q * cumulative[last];
      for (int i = 0; i <= last; i++) {
        if (cumulative[i] >= rank) {
          if (Double.isInfinite(bucketMs[i])) {
            return i == 0 ? Double.NaN : bucketMs[i - 1]; // past the largest finite bound
          }
          double lower = i == 0 ? 0 : bucketMs[i - 1];
          double below = i == 0 ? 0 : cumulative[i - 1];
          double in = cumulative[i] - below;
          return in <= 0 ? bucketMs[i] : lower + (bucketMs[i] - lower) * (rank - below) / in;
        }
      }
      return bucketMs[last];
    }

    void into(Map<String, Double> f, String prefix) {
      for (int i = 0; i < KEYS.length; i++) {
        // no Redis read on the request path (every feature cached): no mean, rather than a 0
        if (counts[i] > 0 || i != REDIS) {
          f.put(prefix + KEYS[i], counts[i] == 0 ? 0 : totalMs[i] / counts[i]);
        }
      }
      f.put(prefix + "server_side_requests", counts[0]);
      f.put(prefix + "redis_reads_per_request", counts[0] == 0 ? 0 : counts[REDIS] / counts[0]);
      f.put(prefix + "server_side_p50_ms", quantileMs(0.50));
      f.put(prefix + "server_side_p99_ms", quantileMs(0.99));
      f.put(prefix + "feature_cache_hit_ratio", hits + misses == 0 ? 0 : hits / (hits + misses));
      f.put(prefix + "fallback_responses", fallbacks);
    }
  }

  private long writeFeatures(LocalStack stack, SimulatorConfig sim) {
    InteractionSimulator s = new InteractionSimulator(sim);
    Map<Long, String> category = new HashMap<>();
    Map<Long, ItemMetadata> meta = new HashMap<>();
    s.itemMetadata().forEach(m -> meta.put(m.getItemId(), m));
    meta.forEach((id, m) -> category.put(id, m.getCategory()));
    Map<Long, UserState> users = new HashMap<>();
    Map<Long, ItemState> items = new HashMap<>();
    for (int i = 0; i < events; i++) {
      InteractionEvent e = s.next();
      s.drainNewItems().forEach(m -> meta.put(m.getItemId(), m));
      ItemMetadata m = meta.get(e.getItemId());
      users
          .computeIfAbsent(e.getUserId(), k -> new UserState())
          .add(e, m == null ? null : m.getCategory());
      items.computeIfAbsent(e.getItemId(), k -> new ItemState()).add(e);
    }
    Map<Long, io.feedrank.events.UserProfile> profiles = new HashMap<>();
    s.userProfiles().forEach(p -> profiles.put(p.getUserId(), p));
    try (UnifiedJedis jedis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(10))) {
      try (AbstractPipeline p = jedis.pipelined()) {
        users.forEach(
            (id, u) ->
                p.hset(RedisConnections.userKey(id), u.toHash(Long.MIN_VALUE, profiles.get(id))));
        items.forEach((id, it) -> p.hset(RedisConnections.itemKey(id), it.toHash(meta.get(id))));
        p.sync();
      }
    }
    return s.eventTime().toEpochMilli();
  }

  /**
   * Bare scoring of a batch of {@code rows}, inputs prebuilt and fed as the ranker feeds them (one
   * row of the inputs the model takes per request) on {@code intraOpThreads}, the ranker's: the
   * median wall time and the mean CPU time of one ONNX Runtime call (this thread's, which runs the
   * model on one intra-op thread; NaN on more, whose others are ONNX Runtime's own native threads),
   * and the calls per second two threads complete together (what bare scoring reaches on two cores;
   * less than twice one thread's rate, since the two share caches and memory bandwidth).
   */
  private static double[] bare(
      byte[] onnx, SimulatorConfig sim, long at, int rows, int reps, int intraOpThreads)
      throws Exception {
    ServingFeatures sf = new ServingFeatures(1, Map.of(), at, Device.MOBILE);
    FloatBuffer user = floats(rows * Vectorizer.USER_WIDTH);
    FloatBuffer item = floats(rows * Vectorizer.ITEM_WIDTH);
    FloatBuffer cross = floats(rows * Vectorizer.CROSS_WIDTH);
    FloatBuffer ctx = floats(rows * Vectorizer.CONTEXT_WIDTH);
    LongBuffer uid = longs(rows);
    LongBuffer iid = longs(rows);
    Random r = new Random(rows);
    for (int i = 0; i < rows; i++) {
      ModelRow row = sf.row(r.nextInt(sim.items()), Map.of(), USER_BUCKETS, ITEM_BUCKETS);
      user.put(row.user);
      item.put(row.item);
      cross.put(row.cross);
      ctx.put(row.context);
      uid.put(row.userBucket);
      iid.put(row.itemBucket);
    }
    user.flip();
    item.flip();
    cross.flip();
    ctx.flip();
    uid.flip();
    iid.flip();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = bareSession(env, onnx, intraOpThreads)) {
      // the ranker's feeding: one row of each input the model takes per request
      Set<String> once = ModelInputs.perRequestInputs(s.getMetadata().getCustomMetadata());
      int u = ModelInputs.rowsFed(ModelInputs.USER, once, rows);
      int x = ModelInputs.rowsFed(ModelInputs.CONTEXT, once, rows);
      int ui = ModelInputs.rowsFed(ModelInputs.USER_ID, once, rows);
      try (OnnxTensor tu =
              OnnxTensor.createTensor(
                  env,
                  head(user, u * Vectorizer.USER_WIDTH),
                  new long[] {u, Vectorizer.USER_WIDTH});
          OnnxTensor ti =
              OnnxTensor.createTensor(env, item, new long[] {rows, Vectorizer.ITEM_WIDTH});
          OnnxTensor tc =
              OnnxTensor.createTensor(env, cross, new long[] {rows, Vectorizer.CROSS_WIDTH});
          OnnxTensor tx =
              OnnxTensor.createTensor(
                  env,
                  head(ctx, x * Vectorizer.CONTEXT_WIDTH),
                  new long[] {x, Vectorizer.CONTEXT_WIDTH});
          OnnxTensor tui = OnnxTensor.createTensor(env, head(uid, ui), new long[] {ui});
          OnnxTensor tii = OnnxTensor.createTensor(env, iid, new long[] {rows})) {
        Map<String, OnnxTensor> in = new HashMap<>();
        in.put(ModelInputs.USER, tu);
        in.put(ModelInputs.ITEM, ti);
        in.put(ModelInputs.CROSS, tc);
        in.put(ModelInputs.CONTEXT, tx);
        in.put(ModelInputs.USER_ID, tui);
        in.put(ModelInputs.ITEM_ID, tii);
        in.keySet().retainAll(s.getInputNames());
        double[] t = new double[reps];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = 0;
        for (int i = -reps / 4; i < reps; i++) {
          if (i == 0) {
            cpu0 = threads.getCurrentThreadCpuTime();
          }
          long t0 = System.nanoTime();
          try (OrtSession.Result res = s.run(in)) {
            res.get(0);
          }
          if (i >= 0) {
            t[i] = (System.nanoTime() - t0) / 1e6;
          }
        }
        double cpuMs =
            intraOpThreads == 1
                ? (threads.getCurrentThreadCpuTime() - cpu0) / 1e6 / reps
                : Double.NaN;
        // then both cores at once on one session, as the ranker's request threads share theirs
        long seconds = 2;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Callable<Long> scorer =
            () -> {
              long calls = 0;
              while (System.nanoTime() < deadline) {
                try (OrtSession.Result res = s.run(in)) {
                  res.get(0);
                }
                calls++;
              }
              return calls;
            };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long calls = 0;
        try {
          for (Future<Long> done : pool.invokeAll(List.of(scorer, scorer))) {
            calls += done.get();
          }
        } finally {
          pool.shutdownNow();
        }
        return new double[] {BenchReport.median(t), cpuMs, calls / (double) seconds};
      }
    }
  }

  /** The first {@code n} values of {@code b}, as a buffer of its own. */
  private static FloatBuffer head(FloatBuffer b, int n) {
    return b.duplicate().limit(n).slice();
  }

  private static LongBuffer head(LongBuffer b, int n) {
    return b.duplicate().limit(n).slice();
  }

  /**
   * A session as bare scoring runs it: {@code intraOpThreads}, as the ranker's {@code
   * onnx.intra.op.threads}, all optimizations. The ranker reads only its {@code score} output, the
   * deep MLP's one, so a call here computes what the ranker's does.
   */
  static OrtSession bareSession(OrtEnvironment env, byte[] onnx, int intraOpThreads)
      throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(intraOpThreads);
      o.setInterOpNumThreads(1);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      return env.createSession(onnx, o);
    }
  }

  static FloatBuffer floats(int n) {
    return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  static LongBuffer longs(int n) {
    return ByteBuffer.allocateDirect(n * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
  }

  private JsonNode load(
      String url,
      String mode,
      int clients,
      double rate,
      int secs,
      int candidates,
      int seed,
      Map<String, Long> pids)
      throws Exception {
    return load(url, mode, clients, rate, secs, candidates, seed, pids, 3);
  }

  /** {@link #load}, the generator first sending for {@code warmupSeconds} unmeasured. */
  private JsonNode load(
      String url,
      String mode,
      int clients,
      double rate,
      int secs,
      int candidates,
      int seed,
      Map<String, Long> pids,
      double warmupSeconds)
      throws Exception {
    Path argfile =
        ChildJvm.classpathArgfile(Paths.get(System.getProperty("java.io.tmpdir")), "loadgen");
    try {
      List<String> jvm =
          new ArrayList<>(
              List.of(
                  "-Xmx512m",
                  "-XX:+UseSerialGC",
                  "-D" + LoadGenerator.CPU_PIDS_PROPERTY + "=" + CpuUse.format(pids)));
      if (candidates > 0) {
        // the ranker's own figures over the generator's measured window; bench ranker keeps
        // /metrics on the rank port (it refuses management.port)
        jvm.add(
            "-D" + LoadGenerator.METRICS_URL_PROPERTY + "=" + URI.create(url).resolve("/metrics"));
      }
      jvm.addAll(ChildJvm.extraOptions(LOADGEN_JAVA_OPTS_ENV));
      List<String> cmd =
          ChildJvm.command(
              jvm,
              argfile,
              LoadGenerator.class,
              List.of(
                  url,
                  mode,
                  Integer.toString(clients),
                  Double.toString(rate),
                  Integer.toString(secs),
                  Integer.toString(candidates),
                  "10000",
                  "50000",
                  Integer.toString(seed),
                  Double.toString(warmupSeconds)));
      if (generatorNice > 0) {
        cmd.addAll(0, List.of("nice", "-n", Integer.toString(generatorNice)));
      }
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(secs + 120L, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("load generator failed: " + output);
      }
      String last = output.substring(output.lastIndexOf('\n') + 1);
      return new ObjectMapper().readTree(last);
    } finally {
      Files.deleteIfExists(argfile);
    }
  }

  private Map<String, String> config(LocalStack stack, FileArtifactStore store, String model) {
    Map<String, String> c = new HashMap<>();
    c.put("port", "0");
    c.put("redis.uri", stack.redisUri());
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("model.name", model);
    c.put("artifact.store", store.root().toString());
    c.put("rate.limit.per.second", "1000000000");
    c.put("rate.limit.burst", "1000000000");
    c.putAll(rankerConfig); // checked in call()
    return c;
  }

  private static void publish(
      LocalStack stack,
      FileArtifactStore store,
      String model,
      String version,
      String arch,
      byte[] onnx,
      Map<String, String> artifacts)
      throws Exception {
    Instant now = Instant.now();
    ModelVersion mv =
        ModelVersion.newBuilder()
            .setModelName(model)
            .setVersion(version)
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture(arch)
            .setCreatedAt(now)
            .setUpdatedAt(now)
            .setArtifactUri(store.put(model + "-" + version, "model.onnx", onnx).toString())
            .setArtifactSha256(Checksums.sha256(onnx))
            .setArtifacts(new HashMap<>(artifacts))
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .build();
    // as the trainer publishes a version
    AvroSerde<ModelVersion> values =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            stack.clientConfig(),
            values.serializer(),
            values.deserializer(),
            Topics.MODEL_REGISTRY)) {
      registry.publish(List.of(mv));
    }
  }

  static ModelMetadata meta(String arch) {
    return new ModelMetadata(FeatureSchema.VERSION, arch, USER_BUCKETS, ITEM_BUCKETS);
  }

  /** The deep MLP of the DESIGN size, with random weights. */
  static MlpWeights mlpWeights(Random r) {
    return mlpWeights(r, List.of(512, 256, 128));
  }

  /** A deep MLP with hidden layers {@code widths} wide, with random weights. */
  static MlpWeights mlpWeights(Random r, List<Integer> widths) {
    int in =
        Vectorizer.USER_WIDTH
            + Vectorizer.ITEM_WIDTH
            + Vectorizer.CROSS_WIDTH
            + Vectorizer.CONTEXT_WIDTH
            + 2 * EMBEDDING_DIM;
    return new MlpWeights(
        embedding(r, USER_BUCKETS),
        embedding(r, ITEM_BUCKETS),
        hidden(r, in, widths),
        dense(r, widths.get(widths.size() - 1), 1));
  }

  private static List<Dense> hidden(Random r, int in, List<Integer> widths) {
    List<Dense> layers = new ArrayList<>();
    int from = in;
    for (int width : widths) {
      layers.add(dense(r, from, width));
      from = width;
    }
    return layers;
  }

  private static TwoTowerWeights twoTowerWeights(Random r) {
    return new TwoTowerWeights(
        embedding(r, USER_BUCKETS),
        embedding(r, ITEM_BUCKETS),
        List.of(
            dense(r, Vectorizer.USER_WIDTH + Vectorizer.CONTEXT_WIDTH + EMBEDDING_DIM, 256),
            dense(r, 256, 128),
            dense(r, 128, 64)),
        List.of(
            dense(r, Vectorizer.ITEM_WIDTH + EMBEDDING_DIM, 256),
            dense(r, 256, 128),
            dense(r, 128, 64)));
  }

  private static Embedding embedding(Random r, int buckets) {
    float[] t = new float[buckets * EMBEDDING_DIM];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) (r.nextGaussian() * 0.05);
    }
    return new Embedding(buckets, EMBEDDING_DIM, t);
  }

  private static Dense dense(Random r, int in, int out) {
    float[] w = new float[in * out];
    double scale = Math.sqrt(2.0 / in) * (out == 1 ? 0.1 : 1);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * scale);
    }
    return new Dense(in, out, w, new float[out]);
  }
}
