package io.feedrank.ranker.api;

import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Vert.x front: {@code eventLoops} event loops share the listening socket, and a rank request
 * is read, parsed, ranked and answered on the loop that owns its connection, with no hand-off to
 * another thread. Ranking is CPU work (half a millisecond for 100 candidates, a few for 1,000), its
 * Redis reads one pipelined round trip bounded by a timeout and the breaker, so the loops are the
 * request threads; the ops endpoints, which may wait on Redis or render thousands of metric lines,
 * run on worker threads (liveness excepted).
 */
public final class VertxRankerServer implements RankerHttp {
  private static final Logger log = LoggerFactory.getLogger(VertxRankerServer.class);
  private static final String JSON_TYPE = "application/json";
  private static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final Backend backend;
  private final Settings settings;
  private final RequestParser parser;
  private final HttpCommon.RequestMetrics requests;

  /** The warm-up's requests, apart from the service's ({@link RankerHttp.WarmupRoute}), or null. */
  private final HttpCommon.RequestMetrics warmupRequests;

  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger boundPort = new AtomicInteger(-1);
  private final AtomicInteger boundManagementPort = new AtomicInteger(-1);
  private final Vertx vertx;

  /** Every instance's servers, the service's and the management's, shut down by {@link #stop}. */
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();

  /**
   * Readiness is DOWN: stopping, though requests may still be served, each connection of the
   * service's port then closed after its next answer.
   */
  private volatile boolean stopping;

  /** New rank requests are refused: stopping, and past the unready period. */
  private volatile boolean draining;

  /** The ops endpoints are served on a port of their own, not on the service's. */
  private final boolean ownManagementPort;

  public VertxRankerServer(Backend backend, Settings settings, MeterRegistry metrics) {
    if (settings.eventLoops() < 1) {
      throw new IllegalArgumentException("http.event.loops must be >= 1");
    }
    this.ownManagementPort = settings.managementPort() != Settings.SAME_PORT;
    this.backend = backend;
    this.settings = settings;
    this.parser = new RequestParser(System::currentTimeMillis, settings.maxAheadMillis());
    this.requests = new HttpCommon.RequestMetrics(metrics);
    this.warmupRequests =
        settings.warmup() == null
            ? null
            : new HttpCommon.RequestMetrics(settings.warmup().meters());
    this.vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(settings.eventLoops())
                .setWorkerPoolSize(OPS_WORKERS)
                .setPreferNativeTransport(false));
  }

  /** Worker threads: the GET endpoints, which may wait on Redis, and failed requests' answers. */
  public static final int OPS_WORKERS = 4;

  /** One instance per event loop; they share the socket and Vert.x spreads connections. */
  private final class Front extends VerticleBase {
    @Override
    public Future<?> start() {
      Future<?> service =
          listen(settings.port(), -1, req -> handle(req, !ownManagementPort), boundPort);
      if (!ownManagementPort) {
        return service;
      }
      return service.compose(
          s ->
              listen(
                  settings.managementPort(),
                  -2,
                  req -> handleOps(req, System.nanoTime()),
                  boundManagementPort));
    }

    /**
     * @param sharedRandom for a configured 0: the negative port Vert.x gives one random port for,
     *     shared by every instance listening on it (0 would give each its own); the service and the
     *     management servers need different ones
     */
    private Future<?> listen(
        int configured, int sharedRandom, Handler<HttpServerRequest> handler, AtomicInteger bound) {
      int port = configured == 0 ? sharedRandom : configured;
      return vertx
          .createHttpServer(
              new HttpServerOptions()
                  .setHost(settings.host())
                  .setPort(port)
                  .setTcpNoDelay(true)
                  .setCompressionSupported(false)
                  // curl and others send Expect: 100-continue before larger bodies: the 100 is
                  // sent by readBodyThenRank, and not for a body over the limit
                  .setHandle100ContinueAutomatically(false)
                  // HTTP/1.1: no upgrade to cleartext HTTP/2 (the JDK's client asks
                  // for one, and then fails on a 101 when it also expects a 100)
                  .setHttp2ClearTextEnabled(false)
                  // an idle keep-alive connection is closed after 30 s
                  .setIdleTimeout(30))
          .requestHandler(handler)
          .invalidRequestHandler(VertxRankerServer.this::invalid)
          .listen()
          .onSuccess(
              s -> {
                bound.set(s.actualPort());
                servers.add(s);
              });
    }
  }

  @Override
  public VertxRankerServer start() {
    try {
      vertx
          .deployVerticle(Front::new, new DeploymentOptions().setInstances(settings.eventLoops()))
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      vertx.close();
      throw new IllegalStateException(
          "ranker: cannot listen on "
              + settings.host()
              + ":"
              + settings.port()
              + (ownManagementPort ? " and :" + settings.managementPort() : "")
              + " ("
              + e.getCause().getMessage()
              + "; port, --port"
              + (ownManagementPort ? ", management.port, --management-port" : "")
              + ")",
          e.getCause());
    } catch (TimeoutException e) {
      vertx.close();
      throw new IllegalStateException("ranker: HTTP server did not start within 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      vertx.close();
      throw new IllegalStateException("ranker: interrupted while starting", e);
    }
    return this;
  }

  @Override
  public int port() {
    return boundPort.get();
  }

  @Override
  public int managementPort() {
    return ownManagementPort ? boundManagementPort.get() : boundPort.get();
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * The service's port: the rank endpoints and {@code /v1/config}, and the ops endpoints unless
   * they have a port of their own ({@code withOps} false: there they are not found here).
   */
  private void handle(HttpServerRequest req, boolean withOps) {
    long start = System.nanoTime();
    if (stopping) {
      // a load balancer stops sending new connections to an unready instance, but a client's pooled
      // connection stays with it until closed: told and closed now, the client's next request
      // opens a connection to another instance, before this one refuses anything
      closeAfterExchange(req);
    }
    String path = req.path();
    HttpMethod method = req.method();
    switch (path) {
      case "/v1/rank", "/predict" -> {
        if (method.equals(HttpMethod.POST)) {
          readBodyThenRank(req, path, start);
        } else {
          methodNotAllowed(req, path, start);
        }
      }
      case "/v1/config" -> {
        // on the loop: a few maps, no Redis, so it never waits behind the workers' ops endpoints;
        // a key, but no token: reading the configuration is not a ranking
        if (isGet(method)) {
          Answer a;
          Error fatal = null;
          try {
            HttpCommon.authenticate(settings, req.getHeader(HttpCommon.API_KEY));
            a = json(200, backend.config());
          } catch (RuntimeException e) {
            a = failure(req, e);
          } catch (Error e) { // still an answer, as for a ranking (see rank)
            a = internal(req, e);
            fatal = e instanceof VirtualMachineError ? e : null;
          }
          send(req, path, start, a);
          if (fatal != null) {
            throw fatal;
          }
        } else {
          methodNotAllowed(req, path, start);
        }
      }
      default -> {
        if (withOps) {
          handleOps(req, start);
        } else {
          notFound(req, start);
        }
      }
    }
  }

  /** The ops endpoints: health, readiness, liveness and metrics, with no key. */
  private void handleOps(HttpServerRequest req, long start) {
    String path = req.path();
    HttpMethod method = req.method();
    switch (path) {
      case "/health/live" -> {
        // on the loop: liveness says the loops answer, whatever the workers are doing
        if (isGet(method)) {
          send(req, path, start, LIVE);
        } else {
          methodNotAllowed(req, path, start);
        }
      }
      case "/health/ready" ->
          ifGet(
              req,
              path,
              start,
              () -> {
                Map<String, Boolean> checks = backend.readiness();
                boolean up = HttpCommon.isUp(checks, stopping);
                return json(
                    up ? 200 : 503,
                    HttpCommon.readyBody(up, checks, backend.dependencies(), stopping));
              });
      case "/health" -> ifGet(req, path, start, () -> json(200, backend.health()));
      case "/metrics" ->
          ifGet(
              req,
              path,
              start,
              () ->
                  new Answer(
                      200, PROMETHEUS_TYPE, backend.scrape().getBytes(StandardCharsets.UTF_8)));
      default -> notFound(req, start);
    }
  }

  private void notFound(HttpServerRequest req, long start) {
    refuseUnread(
        req,
        "unmatched",
        start,
        json(404, HttpCommon.errorBody("not_found", null, HttpCommon.NOT_FOUND)));
  }

  /**
   * Answers a request whose body is not wanted (a 404, a 405). Without a body the connection serves
   * the next request; with one it is discarded, up to a bound and a deadline, and the connection
   * closed once it has ended ({@link #refuseAndClose}): read with neither, a client could keep the
   * connection busy for ever.
   */
  private void refuseUnread(HttpServerRequest req, String endpoint, long start, Answer refusal) {
    if (req.getHeader("Transfer-Encoding") != null || contentLength(req) > 0) {
      refuseAndClose(req, endpoint, start, refusal, expects100(req));
    } else {
      send(req, endpoint, start, refusal);
    }
  }

  /**
   * A request HTTP/1.1 could not be decoded: a request line over {@link
   * HttpServerOptions#DEFAULT_MAX_INITIAL_LINE_LENGTH} bytes is a {@code 414}, headers over {@link
   * HttpServerOptions#DEFAULT_MAX_HEADER_SIZE} a {@code 431}, anything else a {@code 400}, each as
   * JSON like every other answer (Vert.x's own have no body), and the connection is closed once it
   * is written: what follows a request that could not be framed cannot be framed either.
   */
  private void invalid(HttpServerRequest req) {
    Throwable cause = req.decoderResult().cause();
    Answer a;
    if (cause instanceof TooLongHttpLineException) {
      a =
          json(
              414,
              HttpCommon.errorBody(
                  "uri_too_long",
                  "uri",
                  "uri: the request line is longer than "
                      + HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH
                      + " bytes"));
    } else if (cause instanceof TooLongHttpHeaderException) {
      a =
          json(
              431,
              HttpCommon.errorBody(
                  "headers_too_large",
                  "headers",
                  "headers: the request's headers are larger than "
                      + HttpServerOptions.DEFAULT_MAX_HEADER_SIZE
                      + " bytes"));
    } else {
      a =
          json(
              400,
              HttpCommon.errorBody("bad_request", null, "the request is not well-formed HTTP/1.1"));
    }
    req.response().putHeader("Connection", "close");
    send(req, "invalid", System.nanoTime(), a).onComplete(written -> req.connection().close());
  }

  /** A response: status, content type, body, and a Retry-After value or null. */
  private record Answer(int status, String type, byte[] body, String retryAfter) {
    Answer(int status, String type, byte[] body) {
      this(status, type, body, null);
    }
  }

  private static final Answer LIVE = json(200, Map.of("status", "UP"));

  private static final Answer SHUTTING_DOWN =
      new Answer(
          503,
          JSON_TYPE,
          HttpCommon.jsonBytes(
              HttpCommon.errorBody("shutting_down", null, HttpCommon.SHUTTING_DOWN)),
          "1");

  private static Answer json(int status, Object body) {
    return new Answer(status, JSON_TYPE, HttpCommon.jsonBytes(body));
  }

  /**
   * The body is gathered, then ranked. A body over the limit is refused as soon as that is known:
   * at the headers when its length is declared (a client expecting {@code 100 Continue} is not
   * asked to send it), at the chunk that passes the limit otherwise. Either refusal closes the
   * connection once the body has ended, discarding it meanwhile ({@link #refuseAndClose}).
   *
   * <p>The key and the rate limit are checked at the headers too, before any of the body is read or
   * room is made for it: a client without a valid key is answered {@code 401}, its body discarded
   * as it arrives and its connection closed once the body has ended, or after {@link
   * #REFUSED_BODY_DEADLINE_MS} if it has not; a client past its limit is answered {@code 429} and
   * its body discarded, the connection staying open for its next request. A client waiting for a
   * {@code 100} before its body gets the refusal and a closed connection. An unauthenticated client
   * could otherwise make the server hold a buffer of the declared length for as long as it kept
   * trickling bytes. An admitted body in a {@code Content-Encoding} other than {@code identity}
   * (gzip, ...) is then refused with a {@code 415} and a closed connection like a {@code 401}. The
   * buffer is made for at most {@link #INITIAL_BODY_BYTES} and grows with what arrives.
   *
   * <p>A request is in flight from its headers until it is answered or its client is gone, so a
   * stop waits for a body still arriving. It counts itself before it reads {@code draining}, and
   * {@link #stop} sets {@code draining} before it reads the count: either the stop waits for this
   * request or the request sees the stop and is refused with a {@code 503} (once its body is read,
   * so that the connection stays usable).
   */
  private void readBodyThenRank(HttpServerRequest req, String endpoint, long start) {
    Upload u = new Upload(req, endpoint, start);
    long declared = contentLength(req);
    boolean expects100 = expects100(req);
    if (declared > u.max) {
      refuseOversized(req, endpoint, start, declared, expects100);
      u.release();
      return;
    }
    RankerHttp.WarmupRoute warmup = settings.warmup();
    String warmupHeader = req.getHeader(RankerHttp.WARMUP_HEADER);
    u.warming = warmupHeader != null && warmup != null && warmup.accepts(warmupHeader);
    if (!u.warming && !admitted(req, endpoint, start, expects100)) {
      u.release();
      return;
    }
    String encoding = req.getHeader("Content-Encoding");
    if (!HttpCommon.isIdentity(encoding)) { // refused before its body, which would not parse
      req.response().putHeader("Accept-Encoding", "identity");
      Answer refusal = json(415, HttpCommon.unsupportedEncoding(encoding));
      refuseAndClose(req, endpoint, start, refusal, expects100);
      u.release();
      return;
    }
    if (expects100) {
      req.response().writeContinue();
    }
    u.body = Buffer.buffer((int) Math.min(declared >= 0 ? declared : 1024, INITIAL_BODY_BYTES));
    req.handler(u);
    req.endHandler(v -> u.end());
    // a client gone before its body ended: nothing to answer, nothing to count
    req.exceptionHandler(
        e -> {
          log.debug("ranker: request body not read: {}", e.toString());
          u.release();
        });
  }

  /**
   * How long a client refused at its headers or for its body's size, or answered while the server
   * stops, has to finish sending its body before its connection is closed: each byte trickled would
   * otherwise reset the idle timeout.
   */
  static final long REFUSED_BODY_DEADLINE_MS = 5_000;

  /**
   * The least of a refused body discarded ({@link #discardedBodyBytes}) before its connection is
   * closed under it: a client sending more is not sending a request body, and may lose its answer.
   */
  static final long MIN_DISCARDED_BODY_BYTES = 4 << 20;

  /** The most room made for a body before it arrives: a request of 1,000 ids is about 15 KB. */
  static final int INITIAL_BODY_BYTES = 16 * 1024;

  /**
   * Whether the request's key is valid and its client has a token; if not, it is answered here,
   * before its body (see {@link #readBodyThenRank}).
   */
  private boolean admitted(HttpServerRequest req, String endpoint, long start, boolean expects100) {
    try {
      HttpCommon.authorize(settings, req.getHeader(HttpCommon.API_KEY));
      return true;
    } catch (HttpCommon.Unauthorized | HttpCommon.RateLimited e) {
      Answer refusal = failure(req, e);
      if (e instanceof HttpCommon.Unauthorized || expects100) {
        refuseAndClose(req, endpoint, start, refusal, expects100);
      } else { // past its limit, a client keeps its connection for its next request
        discardBody(req);
        send(req, endpoint, start, refusal);
      }
      return false;
    }
  }

  /**
   * Answers {@code refusal} and closes the connection. The body is discarded as it arrives and the
   * connection closed once it has ended ({@link #closeAfterExchange}): a connection closed under a
   * body still arriving is reset by the kernel, and the client may never read its answer. There is
   * nothing to wait for when the client waits for a {@code 100} before its body, or declares more
   * than would be discarded: closed once the answer is written.
   */
  private void refuseAndClose(
      HttpServerRequest req, String endpoint, long start, Answer refusal, boolean expects100) {
    if (expects100 || contentLength(req) > discardedBodyBytes()) {
      req.response().putHeader("Connection", "close");
      send(req, endpoint, start, refusal).onComplete(written -> req.connection().close());
      return;
    }
    discardBody(req);
    closeAfterExchange(req);
    send(req, endpoint, start, refusal);
  }

  /**
   * The rest of a refused request's body is discarded as it arrives, up to {@link
   * #discardedBodyBytes}; past that the connection is closed at once.
   */
  private void discardBody(HttpServerRequest req) {
    long bound = discardedBodyBytes();
    long[] discarded = {0};
    req.handler(
        chunk -> {
          discarded[0] += chunk.length();
          if (discarded[0] > bound) {
            req.connection().close(); // not a request body: no longer worth reading
          }
        });
    req.exceptionHandler(x -> log.debug("ranker: refused body not read: {}", x.toString()));
  }

  /**
   * The most of a refused body discarded: four times {@code http.max.body.bytes} or {@link
   * #MIN_DISCARDED_BODY_BYTES}, whichever is more.
   */
  private long discardedBodyBytes() {
    return Math.max(4L * settings.maxBodyBytes(), MIN_DISCARDED_BODY_BYTES);
  }

  /**
   * A rank request from its headers to its answer: its body as it arrives, and its place in {@link
   * #inFlight}. Every handler of a request runs on its event loop, so the fields need no guard.
   */
  private final class Upload implements Handler<Buffer> {
    final HttpServerRequest req;
    final String endpoint;
    final long start;
    final int max = settings.maxBodyBytes();
    Buffer body;
    long received;
    boolean warming;
    boolean counted = true;

    Upload(HttpServerRequest req, String endpoint, long start) {
      this.req = req;
      this.endpoint = endpoint;
      this.start = start;
      inFlight.incrementAndGet();
      if (draining) { // read after the count: see readBodyThenRank
        release();
      }
    }

    @Override
    public void handle(Buffer chunk) {
      received += chunk.length();
      if (received <= max) {
        body.appendBuffer(chunk);
      } else { // refuseOversized puts a handler discarding the rest in this one's place
        refuseOversized(req, endpoint, start, -1, false);
        release();
      }
    }

    void end() {
      if (received > max) {
        return;
      }
      if (!counted) { // arrived while draining: another instance will answer it
        closeAfterExchange(req); // if the stop began after this request's headers
        send(req, endpoint, start, SHUTTING_DOWN);
        return;
      }
      try {
        rank(req, endpoint, start, body, warming);
      } finally {
        release();
      }
    }

    /** Leaves {@link #inFlight}, once. */
    void release() {
      if (counted) {
        counted = false;
        inFlight.decrementAndGet();
      }
    }
  }

  /**
   * Answers with {@code Connection: close} and closes the connection once the exchange is over: the
   * answer written and the request read to its end (closed with bytes of the client's still unread,
   * the connection would be reset, and the client could lose the answer), or after {@link
   * #REFUSED_BODY_DEADLINE_MS} if its body has not ended by then. Called before the answer is sent.
   */
  private static void closeAfterExchange(HttpServerRequest req) {
    req.response().putHeader("Connection", "close");
    req.connection().shutdown(REFUSED_BODY_DEADLINE_MS, TimeUnit.MILLISECONDS);
  }

  /** A 400 for the body, then the connection is closed ({@link #refuseAndClose}). */
  private void refuseOversized(
      HttpServerRequest req, String endpoint, long start, long declared, boolean expects100) {
    String message = HttpCommon.bodyTooLarge(declared, settings.maxBodyBytes());
    refuseAndClose(
        req,
        endpoint,
        start,
        json(400, HttpCommon.badRequestBody(new BadRequestException("body", message))),
        expects100);
  }

  /** Ranks a request whose key and token were checked at its headers ({@link #admitted}). */
  private void rank(
      HttpServerRequest req, String endpoint, long start, Buffer body, boolean warming) {
    HttpCommon.RequestMetrics meters = warming ? warmupRequests : requests;
    try {
      RankResult r;
      if (warming) {
        r = settings.warmup().rank(parser.parse(body.getBytes()));
      } else {
        String type = req.getHeader("Content-Type");
        if (!HttpCommon.isJson(type)) {
          send(req, endpoint, start, json(415, HttpCommon.unsupportedType(type)), meters);
          return;
        }
        boolean synthetic = HttpCommon.synthetic(req.getHeader(HttpCommon.SYNTHETIC));
        RankRequest parsed = parser.parse(body.getBytes());
        r = backend.rank(synthetic ? parsed.asSynthetic() : parsed);
      }
      send(req, endpoint, start, new Answer(200, JSON_TYPE, HttpCommon.responseBytes(r)), meters);
    } catch (RuntimeException e) {
      send(req, endpoint, start, failure(req, e), meters);
    } catch (Error e) {
      // a class that would not initialize, a native library that would not link, out of memory:
      // still an answer, or the client waits for the idle timeout
      send(req, endpoint, start, internal(req, e), meters);
      if (e instanceof VirtualMachineError) {
        throw e; // the JVM is in trouble: answered, and not swallowed
      }
    }
  }

  /**
   * Whether a GET endpoint takes {@code method}: GET, or HEAD, which HTTP asks for wherever GET is
   * served (answered as a GET, Vert.x writing no body).
   */
  private static boolean isGet(HttpMethod method) {
    return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
  }

  /** GET endpoints run on a worker: they may wait on Redis or render many lines. */
  private void ifGet(HttpServerRequest req, String endpoint, long start, Supplier<Answer> answer) {
    if (!isGet(req.method())) {
      methodNotAllowed(req, endpoint, start);
      return;
    }
    vertx
        .executeBlocking(
            () -> {
              try {
                return answer.get();
              } catch (RuntimeException e) {
                return failure(req, e);
              }
            },
            false)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                send(req, endpoint, start, ar.result());
              } else { // refused by a closing pool, or an Error in the task: still an answer
                send(req, endpoint, start, internal(req, ar.cause()));
              }
            });
  }

  /** A 405 with the {@code Allow} header HTTP asks for: POST for the rank paths, else GET, HEAD. */
  private void methodNotAllowed(HttpServerRequest req, String endpoint, long start) {
    boolean rank = endpoint.equals("/v1/rank") || endpoint.equals("/predict");
    req.response().putHeader("Allow", rank ? "POST" : "GET, HEAD");
    refuseUnread(
        req,
        endpoint,
        start,
        json(
            405,
            HttpCommon.errorBody(
                "method_not_allowed", null, req.method() + " is not allowed here")));
  }

  /** The answer to a failed request; on a worker too, so it leaves the response alone. */
  private static Answer failure(HttpServerRequest req, RuntimeException e) {
    if (e instanceof BadRequestException b) {
      return json(400, HttpCommon.badRequestBody(b));
    }
    if (e instanceof HttpCommon.Unauthorized) {
      return json(401, HttpCommon.errorBody("unauthorized", null, HttpCommon.UNAUTHORIZED));
    }
    if (e instanceof HttpCommon.RateLimited limited) {
      return new Answer(
          429,
          JSON_TYPE,
          HttpCommon.jsonBytes(HttpCommon.errorBody("rate_limited", null, HttpCommon.RATE_LIMITED)),
          Long.toString(limited.retryAfter));
    }
    return internal(req, e);
  }

  /** A 500 without details; what failed is logged. */
  private static Answer internal(HttpServerRequest req, Throwable e) {
    log.error("ranker: {} {} failed: {}", req.method(), req.path(), e.toString(), e);
    return json(500, HttpCommon.errorBody("internal", null, HttpCommon.INTERNAL));
  }

  private Future<Void> send(HttpServerRequest req, String endpoint, long start, Answer a) {
    return send(req, endpoint, start, a, requests);
  }

  private Future<Void> send(
      HttpServerRequest req,
      String endpoint,
      long start,
      Answer a,
      HttpCommon.RequestMetrics meters) {
    var response = req.response().setStatusCode(a.status()).putHeader("Content-Type", a.type());
    if (a.retryAfter() != null) {
      response.putHeader("Retry-After", a.retryAfter());
    }
    if (a.status() == 401) {
      response.putHeader("WWW-Authenticate", HttpCommon.CHALLENGE);
    }
    Future<Void> written = response.end(Buffer.buffer(a.body()));
    meters.record(endpoint, a.status(), System.nanoTime() - start);
    return written;
  }

  /** Whether the client waits for a {@code 100 Continue} before it sends its body. */
  private static boolean expects100(HttpServerRequest req) {
    return "100-continue".equalsIgnoreCase(req.getHeader("Expect"));
  }

  private static long contentLength(HttpServerRequest req) {
    String v = req.getHeader("Content-Length");
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void stop(long unreadyMillis, long graceMillis) {
    stopping = true;
    if (unreadyMillis > 0) {
      try {
        Thread.sleep(unreadyMillis); // serving, while load balancers see readiness DOWN
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    draining = true;
    HttpCommon.awaitDrained(inFlight, graceMillis);
    // no longer listening; what is still being answered (a 503, an ops request on a worker) is
    // answered within what is left of the grace period, and idle connections are closed
    long leftMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    List<HttpServer> open = List.copyOf(servers);
    servers.removeAll(open); // a second stop finds them shut down
    try {
      Future.all(open.stream().map(s -> s.shutdown(leftMillis, TimeUnit.MILLISECONDS)).toList())
          .toCompletionStage()
          .toCompletableFuture()
          .get(leftMillis + 1_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("ranker: HTTP connections did not close within the grace period: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("ranker: Vert.x did not close cleanly: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
