package io.feedrank.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.localstack.ChildProcesses;
import io.feedrank.localstack.ChildReaper;
import io.feedrank.localstack.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ranker as it runs in production: {@code feedrank ranker} in a JVM of its own (G1 on
 * transparent huge pages, a fixed 1.5 GiB heap, as {@code ./feedrank ranker} starts it), so its
 * heap, collector and threads are not shared with the in-process broker of the benchmark's local
 * stack. Read through its HTTP endpoints only: {@code /health} for the serving version, {@code
 * /metrics} for the server-side times (which the load generator reads around its measured window).
 */
final class RankerProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final ChildReaper reaper;
  private final int port;
  private final Path log;
  private final List<Path> inputs;
  private final ScheduledExecutorService scraper =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "ranker-scraper");
            t.setDaemon(true);
            return t;
          });

  /** Each periodic read of {@code /metrics} since {@link #scrapes}: its nanoseconds and chars. */
  private final List<long[]> scraped = new ArrayList<>();

  /** Extra JVM options for the ranker's JVM, whitespace-separated (profiling). */
  static final String EXTRA_OPTIONS_ENV = "FEEDRANK_BENCH_RANKER_JAVA_OPTS";

  private RankerProcess(Process process, int port, Path log, List<Path> inputs) {
    this.process = process;
    this.reaper = ChildReaper.watch(process);
    this.port = port;
    this.log = log;
    this.inputs = inputs;
  }

  /**
   * The ranker's JVM options, those of {@code ./feedrank ranker} (G1 on transparent huge pages, a
   * fixed heap: BENCHMARKS.md, ranker session 32); {@code RankerJvmOptionsTest} keeps the launcher,
   * this list and the Kubernetes manifest in agreement.
   */
  static final List<String> JVM_OPTIONS =
      List.of(
          "-Xss2m",
          "-XX:+UseG1GC",
          "-XX:+UseTransparentHugePages",
          "-XX:MaxTenuringThreshold=1",
          "-Xms1536m",
          "-Xmx1536m",
          "-XX:+AlwaysPreTouch");

  /** Starts the ranker with {@code config} (any RankerConfig key) on a free loopback port. */
  static RankerProcess start(Map<String, String> config, Path dir) throws IOException {
    int port = Ports.freePort();
    Map<String, String> c = new HashMap<>(config);
    c.put("port", Integer.toString(port));
    c.put("host", "127.0.0.1");
    // EXTRA_OPTIONS_ENV, e.g. a flight recording of the ranker alone:
    // -XX:StartFlightRecording=filename=r.jfr; or ZGC instead: -XX:-UseG1GC -XX:+UseZGC
    ChildJvm.Service s =
        ChildJvm.feedrank(
            "ranker",
            c,
            JVM_OPTIONS,
            EXTRA_OPTIONS_ENV,
            Map.of("ORT_DISABLE_TELEMETRY", "1"),
            dir,
            "ranker-" + port);
    return new RankerProcess(s.process(), port, s.log(), s.inputs());
  }

  long pid() {
    return process.pid();
  }

  String rankUrl() {
    return "http://127.0.0.1:" + port + "/v1/rank";
  }

  String liveUrl() {
    return "http://127.0.0.1:" + port + "/health/live";
  }

  /** Waits (at most 90 s: a JVM start and a model load) until {@code version} serves. */
  void awaitVersion(String version) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String seen = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the ranker exited; see " + log);
      }
      try {
        var h = JSON.readTree(get("/health"));
        seen = h.path("model_version").asText(null);
        if (version.equals(seen)) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException(
        "the ranker did not serve " + version + " within 90 s (serving " + seen + "); see " + log);
  }

  /**
   * Waits (at most 120 s: the ranker's warm-up holds readiness for up to a minute) until {@code
   * /health/ready} answers 200. Returns the seconds waited.
   */
  double awaitReady() throws InterruptedException {
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
    String seen = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the ranker exited; see " + log);
      }
      try {
        get("/health/ready");
        return (System.nanoTime() - t0) / 1e9;
      } catch (IOException e) {
        seen = e.getMessage(); // not listening yet, or 503
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException(
        "the ranker was not ready within 120 s (" + seen + "); see " + log);
  }

  /**
   * The server-side timers and counters the benchmark reports, read from a {@code /metrics}
   * exposition (the load generator's, at the start and end of its measured window).
   */
  static RankerBenchmark.ServerTimes serverTimes(String text) {
    double[] t = new double[RankerBenchmark.ServerTimes.TIMERS.length];
    double[] n = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      String base = RankerBenchmark.ServerTimes.TIMERS[i].replace('.', '_') + "_seconds";
      String only = RankerBenchmark.ServerTimes.LABELS[i];
      t[i] = 1000 * sum(text, base + "_sum", only);
      n[i] = sum(text, base + "_count", only);
    }
    double[][] buckets =
        buckets(text, "ranker_request_latency_seconds", RankerBenchmark.ServerTimes.LABELS[0]);
    return new RankerBenchmark.ServerTimes(
        t,
        n,
        sum(text, "ranker_feature_cache_total", "result=\"hit\""),
        sum(text, "ranker_feature_cache_total", "result=\"miss\""),
        sum(text, "ranker_fallbacks_total", ""),
        buckets[0],
        buckets[1]);
  }

  /**
   * The buckets of a histogram, summed over its series whose labels contain {@code label}: their
   * upper bounds in ms, ascending (the last {@code +Inf}), and the cumulative counts.
   */
  static double[][] buckets(String exposition, String histogram, String label) {
    Matcher m =
        Pattern.compile(
                "^"
                    + Pattern.quote(histogram + "_bucket")
                    + "\\{([^}]*)le=\"([^\"]+)\"([^}]*)\\} (\\S+)$",
                Pattern.MULTILINE)
            .matcher(exposition);
    TreeMap<Double, Double> counts = new TreeMap<>();
    while (m.find()) {
      if ((m.group(1) + m.group(3)).contains(label)) {
        double le =
            m.group(2).equals("+Inf")
                ? Double.POSITIVE_INFINITY
                : 1000 * Double.parseDouble(m.group(2));
        counts.merge(le, Double.parseDouble(m.group(4)), Double::sum);
      }
    }
    double[][] out = new double[2][counts.size()];
    int i = 0;
    for (Map.Entry<Double, Double> e : counts.entrySet()) {
      out[0][i] = e.getKey();
      out[1][i++] = e.getValue();
    }
    return out;
  }

  /**
   * Milliseconds the ranker's JIT compilers have spent so far ({@code jvm.compilation.time}: the
   * JVM's own count, elapsed time of compile tasks).
   */
  double jitMillis() throws IOException, InterruptedException {
    return sum(get("/metrics"), "jvm_compilation_time_ms_total", "");
  }

  /**
   * From now until {@link #close()}, reads {@code /metrics} and {@code /health/ready} every {@code
   * period}, as Prometheus and a readiness probe do. Without them, the ranker's JIT compiles its
   * request path for rank requests alone, and the benchmark's own first read of {@code /metrics}
   * after a long phase took uncommon traps in ~60 hot methods of the HTTP server at once (Jetty's
   * and Javalin's, then): they were deoptimized and compiled again during the measured phase.
   */
  void scrapeEvery(Duration period) {
    scraper.scheduleAtFixedRate(
        () -> {
          try {
            long t0 = System.nanoTime();
            int chars = get("/metrics").length();
            long nanos = System.nanoTime() - t0;
            synchronized (scraped) {
              scraped.add(new long[] {nanos, chars});
            }
            get("/health/ready");
          } catch (IOException | RuntimeException e) {
            // a probe that fails is retried at the next period, as a real one is
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        0,
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * The periodic reads of {@code /metrics} since the last call: the median milliseconds from
   * request to the whole answer read (loopback and this client included), the median size in chars,
   * and their count.
   */
  double[] scrapes() {
    long[] nanos;
    long[] chars;
    synchronized (scraped) {
      nanos = scraped.stream().mapToLong(s -> s[0]).sorted().toArray();
      chars = scraped.stream().mapToLong(s -> s[1]).sorted().toArray();
      scraped.clear();
    }
    if (nanos.length == 0) {
      return new double[] {Double.NaN, Double.NaN, 0};
    }
    return new double[] {nanos[nanos.length / 2] / 1e6, chars[chars.length / 2], nanos.length};
  }

  /** The sum over the series of {@code metric} whose labels contain {@code label}. */
  static double sum(String exposition, String metric, String label) {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(metric) + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE)
            .matcher(exposition);
    double s = 0;
    while (m.find()) {
      String labels = m.group(1) == null ? "" : m.group(1);
      if (labels.contains(label)) {
        s += Double.parseDouble(m.group(2));
      }
    }
    return s;
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(path + " answered " + r.statusCode());
    }
    return r.body();
  }

  /** SIGTERM (the ranker drains and exits), then SIGKILL after 20 s; keeps only its log. */
  @Override
  public void close() throws IOException {
    scraper.shutdownNow();
    ChildProcesses.stop(process, "ranker", 20);
    reaper.close();
    for (Path p : inputs) {
      Files.deleteIfExists(p);
    }
  }
}
