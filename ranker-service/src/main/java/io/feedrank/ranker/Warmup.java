package io.feedrank.ranker;

import io.feedrank.events.Device;
import io.feedrank.events.RankingLog;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.api.RankerHttp;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.RedisFeatureStore;
import io.feedrank.ranker.logging.RankingLogger;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ranker's warm-up, between the start of its HTTP server and readiness ({@code warmed_up} in
 * {@code /health/ready}). A fresh JVM otherwise serves its first minutes of traffic with a cold
 * JIT: a ranker started without one had a p99 of 33.6 ms over its first 30 s at 400 requests/s and
 * 14 ms two runs later (BENCHMARKS.md, session 27).
 *
 * <p>It sends the ranker's own HTTP server requests as clients write them, over loopback keep-alive
 * connections, one per event loop: real users and items sampled from Redis ({@code SCAN}, with a
 * few unknown ids for the default features). Requests made of ids without features would train the
 * JIT on the default-feature branches instead, and ranking in-process would leave out Vert.x and
 * Netty, which were half of what the JIT compiled under a fresh ranker's first load. The server
 * knows these requests by a random header ({@link RankerHttp.WarmupRoute}) and hands them to a
 * {@link RankService} of the warm-up's own: its features are read through a cache of its own,
 * scored by the production model (or staging, for the users in its share), its meters go to a
 * registry of its own (of the service's kind), its ranking logs are built and serialized by a
 * logger that sends nothing. So none of it is seen outside, on dashboards, by autoscalers or by the
 * drift job. The cache is dropped at the end (a two-tower model keeps the item vectors it computed:
 * they are the model's, and fresh).
 *
 * <p>One thread. It waits for the first production model (readiness waits for one too), then runs
 * until {@code warmup.requests} are ranked or {@code warmup.max.ms} has passed (keys of {@link
 * RankerConfig}; 0 requests: none). A failure ends it (the pod should still become ready: its other
 * checks say whether it can serve). A model swapped in later needs none: a new ONNX Runtime
 * session's first calls cost what later ones do.
 */
final class Warmup implements RankerHttp.WarmupRoute, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);

  /** At most this many users and items are sampled from Redis. */
  static final int MAX_USERS = 10_000;

  static final int MAX_ITEMS = 20_000;

  /**
   * What the warm-up did, for {@code GET /health}: its state ({@code waiting_for_model}, {@code
   * running}, then {@code done}, {@code timed_out}, {@code skipped}, {@code failed} or {@code
   * stopped}), the requests ranked, how long it took, how many users and items it sampled, the
   * model that scored them.
   */
  record Report(String state, int requests, long millis, int users, int items, String model) {
    boolean finished() {
      return !state.equals("waiting_for_model") && !state.equals("running");
    }
  }

  private final RedisFeatureStore redis;
  private final RankerConfig config;
  private final ModelSlots slots;
  private final Consumer<RankingLog> logs;
  private final byte[] token;

  /**
   * The warm-up's meters: apart from the service's, but of the same kind, so that the JIT compiles
   * the meters' code the service's requests run (and does not undo it when they come).
   */
  private final MeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private final Thread thread;
  private volatile int port = -1;
  private volatile RankService service; // while the warm-up runs
  private volatile boolean stopping;
  private volatile Report report;
  private volatile int progress; // requests answered so far, while running
  private volatile long startedNanos;

  /**
   * @param logs what the warm-up does with its ranking logs in place of sending them (it builds and
   *     serializes them, so that the logger's code is compiled too)
   */
  Warmup(
      RedisFeatureStore redis, ModelSlots slots, RankerConfig config, Consumer<RankingLog> logs) {
    this.redis = redis;
    this.slots = slots;
    this.config = config;
    this.logs = logs;
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    this.token = HexFormat.of().formatHex(random).getBytes(StandardCharsets.US_ASCII);
    this.report =
        new Report(config.warmupRequests() > 0 ? "waiting_for_model" : "skipped", 0, 0, 0, 0, null);
    this.thread = new Thread(this::run, "ranker-warmup");
    this.thread.setDaemon(true);
  }

  /** Starts the warm-up against the ranker's HTTP server on {@code port}. */
  void start(int port) {
    this.port = port;
    if (config.warmupRequests() > 0) {
      thread.start();
    }
  }

  /** What the warm-up has done so far. */
  Report report() {
    Report r = report;
    return r.state().equals("running")
        ? new Report(
            "running",
            progress,
            (System.nanoTime() - startedNanos) / 1_000_000,
            r.users(),
            r.items(),
            r.model())
        : r;
  }

  @Override
  public boolean accepts(String header) {
    return service != null
        && MessageDigest.isEqual(token, header.getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public MeterRegistry meters() {
    return meters;
  }

  @Override
  public RankResult rank(RankRequest request) {
    RankService s = service;
    if (s == null) {
      throw new IllegalStateException("the warm-up has ended");
    }
    return s.rank(request);
  }

  private void run() {
    int done = 0;
    long[] users = {};
    long[] items = {};
    String model = null;
    String state = "done";
    // a ranker without a model is not ready anyway (model_loaded): the time starts with the model
    while (slots.current(ModelSlots.Variant.PRODUCTION) == null && !stopping) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    if (stopping) {
      report = new Report("stopped", 0, 0, 0, 0, null);
      return;
    }
    long t0 = System.nanoTime();
    startedNanos = t0;
    long deadline = t0 + config.warmupMax().toNanos();
    // a cache like the service's over the same store, counted apart and dropped afterwards
    CachingFeatureStore features = RankerApp.cache(redis, config, meters);
    RankingLogger<RankingLogs.Entry> logger = null;
    try {
      ServingModel production = slots.current(ModelSlots.Variant.PRODUCTION);
      model = production == null ? null : production.version();
      report = new Report("running", 0, 0, 0, 0, model);
      users = redis.sampleIds(true, MAX_USERS);
      items = redis.sampleIds(false, MAX_ITEMS);
      report = new Report("running", 0, 0, users.length, items.length, model);
      logger =
          RankingLogger.discarding(
              logs,
              config.logBufferSize(),
              config.logBufferMaxBytes(),
              RankingLogs.Entry::estimatedBytes,
              RankingLogs::toRecord,
              meters);
      service = new RankService(features, slots, logger, config.logSampleRate(), meters);
      Requests requests =
          new Requests(new SplittableRandom(17), users, items, config.warmupCandidates());
      try (Client client = new Client(connectHost(config.host()), port, config.eventLoops())) {
        while (done < config.warmupRequests() && !stopping) {
          if (System.nanoTime() > deadline) {
            state = "timed_out";
            break;
          }
          // a request on every connection (Vert.x gives each its event loop), then the answers
          int round = Math.min(client.connections(), config.warmupRequests() - done);
          for (int c = 0; c < round; c++) {
            client.send(c, requests.next(), token);
          }
          for (int c = 0; c < round; c++) {
            client.expectOk(c);
          }
          done += round;
          progress = done;
        }
      }
      if (stopping) {
        state = "stopped";
      }
    } catch (Exception | Error e) {
      // an Error too: a warm-up that ended without its report would keep the ranker unready for
      // good (readiness waits for the report, and only this thread watches warmup.max.ms)
      if (e instanceof Error) {
        log.error("ranker: warm-up failed after {} requests, ready without it", done, e);
      } else {
        log.warn(
            "ranker: warm-up failed after {} requests, ready without it: {}", done, e.toString());
      }
      state = "failed";
    } finally {
      service = null;
      try {
        features.closeKeepingStore();
        if (logger != null) {
          logger.close();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    report = new Report(state, done, ms, users.length, items.length, model);
    log.info(
        "ranker: warm-up {}: {} requests of ~{} candidates over HTTP in {} ms ({} users, {} items"
            + " from Redis, model {})",
        state,
        done,
        config.warmupCandidates(),
        ms,
        users.length,
        items.length,
        model);
  }

  /** The address to reach the server at: loopback when it listens on every interface. */
  private static String connectHost(String host) {
    return host.isBlank() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")
        ? "127.0.0.1"
        : host;
  }

  /** Stops a warm-up still running, waiting for its current round of requests. */
  @Override
  public void close() throws InterruptedException {
    stopping = true;
    thread.join(TimeUnit.SECONDS.toMillis(15));
  }

  /**
   * HTTP/1.1 keep-alive connections to the ranker, one request in flight on each: a few lines over
   * plain sockets, so that the warm-up compiles the server's side of HTTP and little of a client.
   */
  static final class Client implements AutoCloseable {
    private final String host;
    private final Socket[] sockets;
    private final OutputStream[] out;
    private final InputStream[] in;

    Client(String host, int port, int connections) throws IOException {
      this.host = host;
      this.sockets = new Socket[connections];
      this.out = new OutputStream[connections];
      this.in = new InputStream[connections];
      try {
        for (int c = 0; c < connections; c++) {
          Socket s = new Socket();
          s.setTcpNoDelay(true);
          s.connect(new InetSocketAddress(host, port), 5_000);
          s.setSoTimeout(10_000); // a request the server does not answer fails the warm-up
          sockets[c] = s;
          out[c] = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
          in[c] = new BufferedInputStream(s.getInputStream(), 16 * 1024);
        }
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    int connections() {
      return sockets.length;
    }

    void send(int c, byte[] body, byte[] token) throws IOException {
      String head =
          "POST /v1/rank HTTP/1.1\r\nHost: "
              + host
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + body.length
              + "\r\n"
              + RankerHttp.WARMUP_HEADER
              + ": ";
      out[c].write(head.getBytes(StandardCharsets.US_ASCII));
      out[c].write(token);
      out[c].write(CRLF_CRLF);
      out[c].write(body);
      out[c].flush();
    }

    /** Reads connection {@code c}'s answer; an exception for anything but a 200 with a body. */
    void expectOk(int c) throws IOException {
      String status = line(in[c]);
      int length = -1;
      for (String h = line(in[c]); !h.isEmpty(); h = line(in[c])) {
        int colon = h.indexOf(':');
        if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
          length = Integer.parseInt(h.substring(colon + 1).trim());
        }
      }
      if (length < 0) {
        throw new IOException("warm-up: an answer without Content-Length: " + status);
      }
      byte[] body = in[c].readNBytes(length);
      if (body.length < length) {
        throw new EOFException("warm-up: the server closed the connection");
      }
      if (!status.startsWith("HTTP/1.1 200")) {
        throw new IOException(
            "warm-up: " + status + ": " + new String(body, StandardCharsets.UTF_8));
      }
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder(64);
      for (int ch = in.read(); ch != '\n'; ch = in.read()) {
        if (ch < 0) {
          throw new EOFException("warm-up: the server closed the connection");
        }
        if (ch != '\r') {
          b.append((char) ch);
        }
      }
      return b.toString();
    }

    @Override
    public void close() {
      for (Socket s : sockets) {
        if (s != null) {
          try {
            s.close();
          } catch (IOException e) {
            // closing: nothing to do
          }
        }
      }
    }

    private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};
  }

  /**
   * Request bodies as clients write them: a sampled user (one in fifty unknown), distinct sampled
   * candidates (one in fifty unknown), the devices in turn, a context left out now and then, top_k
   * and request_id given by half of them.
   */
  static final class Requests {
    private static final Device[] DEVICES = Device.values();

    private final SplittableRandom random;
    private final long[] users;
    private final long[] pool;
    private final int candidates;
    private final long unknownUser;
    private final long unknownItem;
    private int n;

    /**
     * @param candidates the mean number of candidates (each request has 50% to 150% of it)
     */
    Requests(SplittableRandom random, long[] users, long[] items, int candidates) {
      this.random = random;
      this.users = users;
      this.pool = items.clone(); // partly shuffled by every request: a uniform sample each time
      this.candidates = candidates;
      this.unknownUser = max(users) + 1;
      this.unknownItem = max(items) + 1;
    }

    byte[] next() {
      n++;
      long user =
          users.length == 0 || random.nextInt(50) == 0
              ? unknownUser + random.nextInt(1_000)
              : users[random.nextInt(users.length)];
      int want = candidates / 2 + random.nextInt(candidates + 1);
      want = Math.max(1, Math.min(want, RankRequest.MAX_CANDIDATES));
      StringBuilder b = new StringBuilder(32 + want * 8);
      b.append("{\"user_id\":").append(user).append(",\"item_ids\":[");
      int known = Math.min(want, pool.length);
      int unknown = 0;
      for (int k = 0; k < want; k++) {
        long id;
        if (k < known && random.nextInt(50) != 0) {
          int j = k + random.nextInt(pool.length - k); // partial Fisher–Yates: distinct ids
          id = pool[j];
          pool[j] = pool[k];
          pool[k] = id;
        } else {
          id = unknownItem + unknown++; // past every sampled id: distinct too
        }
        b.append(k == 0 ? "" : ",").append(id);
      }
      b.append(']');
      if (n % 10 != 0) {
        b.append(",\"context\":{\"device\":\"")
            .append(DEVICES[n % DEVICES.length].name().toLowerCase(Locale.ROOT))
            .append("\"}");
      }
      if (n % 2 == 0) {
        b.append(",\"top_k\":").append(Math.min(20, want));
        b.append(",\"request_id\":\"warmup-").append(n).append('"');
      }
      return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static long max(long[] ids) {
      long m = 0;
      for (long id : ids) {
        m = Math.max(m, id);
      }
      return m;
    }
  }
}
