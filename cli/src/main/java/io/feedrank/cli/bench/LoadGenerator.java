package io.feedrank.cli.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The ranker benchmark's load generator, run in its own JVM so its CPU is not the server's: sends
 * {@code POST /v1/rank} with random users and candidate lists and prints one line of JSON with the
 * latency quantiles, throughput and errors. Requests go over {@link HttpConnection}s, one
 * keep-alive connection per client thread. {@code requests}, {@code rps} and the quantiles are of
 * the measured requests answered {@code 200}; {@code errors} counts every other answer and every
 * request that got none, the warm-up's included.
 *
 * <p>{@code closed}: {@code concurrency} clients each send the next request when the previous one
 * answered (saturation throughput). {@code open}: requests start on a fixed schedule at {@code
 * rate}/s whatever the answers do, and latency counts from the scheduled start, so a stalled server
 * is not hidden (no coordinated omission). The schedule is dealt out to the {@code concurrency}
 * clients in turn, and each client waits for its own requests' times and sends them itself, so no
 * thread hand-off sits between a scheduled start and the socket; {@code send_late_p50_ms} / {@code
 * _p99_ms} say how late after its scheduled start a request was written (the generator's own delay:
 * waking up, or its connection still busy with the client's previous request).
 *
 * <p>Arguments: {@code url mode concurrency rate seconds candidates users items seed
 * [warmupSeconds]}; with 0 candidates it sends {@code GET url} instead (for {@code /health/live}:
 * the round trip of a request the server answers at once, what the generator, the loopback and the
 * HTTP layer add to every measured latency); the generator first sends for {@code warmupSeconds}
 * (default 3) without measuring — it is a fresh JVM — then measures for {@code seconds}.
 *
 * <p>With {@code -Dfeedrank.loadgen.cpu=name=pid,…} it also reports, as {@code cpu_ms}, the CPU
 * milliseconds each of those processes, this one ({@code loadgen}) and the machine used in the
 * measured window, and for the ranker the milliseconds its event loops waited for a core ({@code
 * wait_ranker_loops}, not CPU time).
 *
 * <p>With {@code -Dfeedrank.loadgen.metrics=URL} it reads the ranker's {@code /metrics} at the
 * start of the measured window and again after the last answer, and reports the ranker's own
 * figures over that window as {@code server} ({@link RankerBenchmark.ServerTimes#into}: its request
 * count, means, quantiles, cache and fallbacks) and {@code server_jit_ms}, with the window's {@code
 * seconds}. Read around this process instead, they took in its JVM start and its unmeasured
 * warm-up. Without a warm-up the first reading is taken before the first request, so the window
 * holds every request; with one, a request in flight at its start is the server's and not the
 * generator's (at most one a client), as are the ones the ranker answers while it renders that
 * reading.
 */
public final class LoadGenerator {
  static final String CPU_PIDS_PROPERTY = "feedrank.loadgen.cpu";
  static final String METRICS_URL_PROPERTY = "feedrank.loadgen.metrics";

  public static void main(String[] args) throws Exception {
    System.out.println(run(args));
    System.exit(0);
  }

  /** Sends the load {@code args} describe; returns the line of JSON with what was measured. */
  static String run(String[] args) throws Exception {
    return run(args, 4_096);
  }

  /**
   * {@link #run(String[])}, each client keeping its measured requests in arrays of {@code
   * initialCapacity} at first, grown as they fill: every measured request counts, however many.
   */
  static String run(String[] args, int initialCapacity) throws Exception {
    String url = args[0];
    String mode = args[1];
    int concurrency = Integer.parseInt(args[2]);
    double rate = Double.parseDouble(args[3]);
    double seconds = Double.parseDouble(args[4]);
    int candidates = Integer.parseInt(args[5]);
    int users = Integer.parseInt(args[6]);
    int items = Integer.parseInt(args[7]);
    long seed = Long.parseLong(args[8]);
    double warmupSeconds = args.length > 9 ? Double.parseDouble(args[9]) : 3;
    URI uri = URI.create(url);
    List<byte[]> bodies = new ArrayList<>();
    if (candidates == 0) {
      bodies.add(HttpConnection.get(uri)); // the harness's floor: a GET the server answers at once
    } else {
      for (String b : bodies(200, candidates, users, items, seed)) {
        bodies.add(HttpConnection.post(uri, b));
      }
    }
    ThreadLocal<HttpConnection> connections =
        ThreadLocal.withInitial(() -> new HttpConnection(uri));
    boolean open = !mode.equals("closed");
    List<Samples> samples = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      samples.add(new Samples(initialCapacity, open));
    }
    AtomicLong errors = new AtomicLong();
    AtomicLong status5xx = new AtomicLong();
    Map<String, Long> cpuPids = CpuUse.parse(System.getProperty(CPU_PIDS_PROPERTY));
    cpuPids.put("loadgen", ProcessHandle.current().pid());
    CpuUse[] cpu = new CpuUse[2];
    URI metricsUri = uriOrNull(System.getProperty(METRICS_URL_PROPERTY));
    HttpClient http =
        metricsUri == null
            ? null
            : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String[] metrics = new String[2];
    AtomicReference<RuntimeException> metricsFailure = new AtomicReference<>();
    if (metricsUri != null) {
      // before the first request: the window's start without a warm-up, and with one a client
      // that has loaded its classes and connected before the reading that counts
      metrics[0] = fetch(http, metricsUri);
    }
    // this JVM is new: the first seconds (its own JIT, connection set-up) are sent but not measured
    long start = System.nanoTime();
    long t0 = start + (long) (warmupSeconds * 1e9);
    long end = t0 + (long) (seconds * 1e9);
    Thread sampler =
        new Thread(
            () -> {
              parkUntil(t0);
              cpu[0] = CpuUse.read(cpuPids);
              if (metricsUri != null && t0 > start) {
                try {
                  metrics[0] = fetch(http, metricsUri);
                } catch (RuntimeException e) {
                  metricsFailure.set(e);
                }
              }
              parkUntil(end);
              cpu[1] = CpuUse.read(cpuPids);
            },
            "cpu-sampler");
    sampler.setDaemon(true);
    sampler.start();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    if (!open) {
      for (int c = 0; c < concurrency; c++) {
        int client = c;
        Samples mine = samples.get(c);
        pool.submit(
            () -> {
              int k = client;
              while (System.nanoTime() < end) {
                long s = System.nanoTime();
                boolean ok =
                    send(connections.get(), bodies.get(k++ % bodies.size()), errors, status5xx);
                if (ok && s >= t0) {
                  mine.add(System.nanoTime() - s, 0);
                }
              }
            });
      }
    } else {
      // each client keeps its own share of the schedule, requests k = client, client + N, …, and
      // sends them itself: no hand-off to another thread between the schedule and the socket
      long intervalNanos = (long) (1e9 / rate);
      for (int c = 0; c < concurrency; c++) {
        int client = c;
        Samples mine = samples.get(c);
        pool.submit(
            () -> {
              for (long k = client; ; k += concurrency) {
                long intended = start + k * intervalNanos;
                if (intended >= end) {
                  break;
                }
                parkUntil(intended);
                long sent = System.nanoTime();
                boolean ok =
                    send(
                        connections.get(),
                        bodies.get((int) (k % bodies.size())),
                        errors,
                        status5xx);
                if (ok && intended >= t0) {
                  mine.add(System.nanoTime() - intended, sent - intended);
                }
              }
            });
      }
    }
    pool.shutdown();
    pool.awaitTermination(60, TimeUnit.SECONDS);
    sampler.join();
    double elapsed = (System.nanoTime() - t0) / 1e9;
    if (metricsFailure.get() != null) {
      throw metricsFailure.get();
    }
    if (metricsUri != null) {
      // after the last answer: the requests still in flight at the end are measured ones
      metrics[1] = fetch(http, metricsUri);
    }
    long[] sorted = Samples.sorted(samples, false);
    long[] lateSorted = Samples.sorted(samples, true);
    int count = sorted.length;
    return String.format(
        Locale.ROOT,
        "{\"requests\":%d,\"errors\":%d,\"status_5xx\":%d,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"send_late_p50_ms\":%.3f,\"send_late_p99_ms\":%.3f,\"cpu_ms\":%s,\"seconds\":%.3f%s}",
        count,
        errors.get(),
        status5xx.get(),
        count / elapsed,
        q(sorted, 0.50),
        q(sorted, 0.99),
        q(sorted, 0.999),
        count == 0 ? 0 : sorted[count - 1] / 1e6,
        q(lateSorted, 0.50),
        q(lateSorted, 0.99),
        cpu[1] == null ? "{}" : json(cpu[1].since(cpu[0]), "%.1f"),
        elapsed,
        metricsUri == null ? "" : serverJson(metrics[0], metrics[1]));
  }

  private static URI uriOrNull(String url) {
    return url == null || url.isBlank() ? null : URI.create(url);
  }

  /** The body of a {@code GET} answered 200; fails naming the URL otherwise. */
  private static String fetch(HttpClient http, URI uri) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("load generator: " + uri + " answered " + r.statusCode());
      }
      return r.body();
    } catch (IOException e) {
      throw new IllegalStateException("load generator: cannot read " + uri + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("load generator: interrupted reading " + uri, e);
    }
  }

  /** {@code ,"server":{…},"server_jit_ms":…}: the ranker's figures between the two readings. */
  private static String serverJson(String before, String after) {
    Map<String, Double> server = new LinkedHashMap<>();
    RankerProcess.serverTimes(after).minus(RankerProcess.serverTimes(before)).into(server, "");
    String jit = "jvm_compilation_time_ms_total";
    return String.format(
        Locale.ROOT,
        ",\"server\":%s,\"server_jit_ms\":%.1f",
        json(server, "%.6f"),
        RankerProcess.sum(after, jit, "") - RankerProcess.sum(before, jit, ""));
  }

  /**
   * One client's measured requests: each one's latency and, in the open loop, how late it was
   * written (nanoseconds), in arrays that double as they fill. Written by its client's thread
   * alone, read once the pool has terminated.
   */
  private static final class Samples {
    private long[] latency;
    private long[] late;
    private int n;

    Samples(int capacity, boolean withLate) {
      latency = new long[Math.max(1, capacity)];
      late = withLate ? new long[latency.length] : new long[0];
    }

    void add(long latencyNanos, long lateNanos) {
      if (n == latency.length) {
        latency = Arrays.copyOf(latency, 2 * n);
        late = late.length == 0 ? late : Arrays.copyOf(late, 2 * n);
      }
      latency[n] = latencyNanos;
      if (late.length > 0) {
        late[n] = lateNanos;
      }
      n++;
    }

    /** All clients' latencies (or send delays), sorted. */
    static long[] sorted(List<Samples> all, boolean late) {
      long[] out = new long[all.stream().mapToInt(s -> late && s.late.length == 0 ? 0 : s.n).sum()];
      int at = 0;
      for (Samples s : all) {
        if (!late || s.late.length > 0) {
          System.arraycopy(late ? s.late : s.latency, 0, out, at, s.n);
          at += s.n;
        }
      }
      Arrays.sort(out);
      return out;
    }
  }

  /**
   * Sends one request; whether it was answered {@code 200}. Any other answer, or none, is an error,
   * and only the 200s are measured: a refusal (a {@code 429} past the ranker's rate limit) is
   * answered in microseconds, and counted in the rate and quantiles it would inflate them.
   */
  private static boolean send(
      HttpConnection c, byte[] request, AtomicLong errors, AtomicLong status5xx) {
    // errors of the warm-up count too: a failed request is never excused
    try {
      int status = c.send(request);
      if (status != 200) {
        errors.incrementAndGet();
        if (status >= 500) {
          status5xx.incrementAndGet();
        }
      }
      return status == 200;
    } catch (java.io.IOException e) {
      errors.incrementAndGet();
      return false;
    }
  }

  private static void parkUntil(long nanoTime) {
    for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
    }
  }

  private static String json(Map<String, Double> m, String format) {
    StringBuilder s = new StringBuilder("{");
    m.forEach(
        (k, v) ->
            s.append(s.length() == 1 ? "" : ",")
                .append('"')
                .append(k)
                .append("\":")
                .append(v.isNaN() ? "null" : String.format(Locale.ROOT, format, v)));
    return s.append('}').toString();
  }

  private static double q(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  /**
   * Request bodies whose candidate lists look like a retrieval stage's output: half drawn by item
   * popularity (Zipf, exponent 1.05 as in the simulator), half uniformly from the catalog (the long
   * tail), users uniformly.
   */
  static List<String> bodies(int count, int candidates, int users, int items, long seed) {
    Random r = new Random(seed);
    double[] cdf = new double[items];
    double sum = 0;
    for (int k = 0; k < items; k++) {
      sum += 1.0 / Math.pow(k + 1, 1.05);
      cdf[k] = sum;
    }
    List<String> out = new ArrayList<>(count);
    for (int b = 0; b < count; b++) {
      Set<Integer> ids = new HashSet<>();
      while (ids.size() < Math.min(candidates, items)) {
        if (r.nextBoolean()) {
          int k = Arrays.binarySearch(cdf, r.nextDouble() * sum);
          ids.add(1 + Math.min(items - 1, k < 0 ? -k - 1 : k));
        } else {
          ids.add(1 + r.nextInt(items));
        }
      }
      StringBuilder s = new StringBuilder("{\"user_id\":").append(r.nextInt(users));
      s.append(",\"item_ids\":[");
      boolean first = true;
      for (int id : ids) {
        s.append(first ? "" : ",").append(id);
        first = false;
      }
      s.append("],\"context\":{\"device\":\"mobile\"},\"top_k\":10}");
      out.add(s.toString());
    }
    return out;
  }

  private LoadGenerator() {}
}
