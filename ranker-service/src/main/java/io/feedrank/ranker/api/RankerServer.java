package io.feedrank.ranker.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.ranker.RankResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side: routes, authentication, rate limits, body limits and the one mapping from
 * exceptions to statuses. Handlers translate JSON to a domain call and back, nothing more. No
 * response ever carries a stack trace.
 */
public final class RankerServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RankerServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String API_KEY = "X-API-Key";

  /** What the server needs from the rest of the service. */
  public interface Backend {
    RankResult rank(RankRequest request);

    /** Readiness checks by name (model_loaded, redis_reachable, ...). */
    Map<String, Boolean> readiness();

    /** Body of {@code GET /health}. */
    Map<String, Object> health();

    /** Body of {@code GET /v1/config}. */
    Map<String, Object> config();

    /** Prometheus text exposition. */
    String scrape();
  }

  /** Settings of the HTTP layer. */
  public record Settings(
      String host, int port, int maxThreads, int maxBodyBytes, ApiKeys keys, TokenBuckets limits) {}

  private static final class Unauthorized extends RuntimeException {
    Unauthorized() {
      super(null, null, false, false);
    }
  }

  private static final class RateLimited extends RuntimeException {
    final long retryAfter;

    RateLimited(long retryAfter) {
      super(null, null, false, false);
      this.retryAfter = retryAfter;
    }
  }

  private final Backend backend;
  private final Settings settings;
  private final RequestParser parser = new RequestParser(System::currentTimeMillis);
  private final MeterRegistry metrics;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Counter> statuses = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean draining;
  private final Javalin app;

  public RankerServer(Backend backend, Settings settings, MeterRegistry metrics) {
    this.backend = backend;
    this.settings = settings;
    this.metrics = metrics;
    this.app =
        Javalin.create(
            c -> {
              c.jetty.host = settings.host();
              c.jetty.port = settings.port();
              c.jetty.threadPool = new QueuedThreadPool(settings.maxThreads(), 4);
              c.http.maxRequestSize = settings.maxBodyBytes() + 1L;
              c.startup.showJavalinBanner = false;
              c.requestLogger.http(this::recordRequest);
              Handler rank = this::rank;
              c.routes.post("/v1/rank", rank);
              c.routes.post("/predict", rank);
              c.routes.get("/v1/config", ctx -> json(ctx, 200, authorized(ctx, backend::config)));
              c.routes.get("/health/live", ctx -> json(ctx, 200, Map.of("status", "UP")));
              c.routes.get("/health/ready", this::ready);
              c.routes.get("/health", ctx -> json(ctx, 200, backend.health()));
              c.routes.get(
                  "/metrics",
                  ctx ->
                      ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                          .result(backend.scrape()));
              c.routes.exception(BadRequestException.class, this::badRequest);
              c.routes.exception(
                  Unauthorized.class,
                  (e, ctx) ->
                      error(
                          ctx,
                          401,
                          "unauthorized",
                          null,
                          "missing or invalid " + API_KEY + " header"));
              c.routes.exception(
                  RateLimited.class,
                  (e, ctx) -> {
                    ctx.header("Retry-After", Long.toString(e.retryAfter));
                    error(ctx, 429, "rate_limited", null, "rate limit exceeded for this API key");
                  });
              c.routes.exception(Exception.class, this::internal);
              c.routes.error(404, ctx -> error(ctx, 404, "not_found", null, "no such endpoint"));
              c.routes.error(
                  405,
                  ctx ->
                      error(
                          ctx,
                          405,
                          "method_not_allowed",
                          null,
                          ctx.method() + " is not allowed here"));
            });
  }

  public RankerServer start() {
    app.start();
    return this;
  }

  public int port() {
    return app.port();
  }

  private void rank(Context ctx) throws IOException {
    if (draining) {
      error(ctx, 503, "shutting_down", null, "the ranker is shutting down");
      return;
    }
    inFlight.incrementAndGet();
    try {
      authorized(ctx, () -> null);
      byte[] body = readBody(ctx);
      RankRequest req = parser.parse(body);
      RankResult r = backend.rank(req);
      // written and flushed here, not handed to Javalin as a result: Javalin writes results after
      // the handler returns, and a graceful stop that saw this request leave could close the
      // connection before its response went out
      byte[] out = responseBytes(r);
      ctx.status(200).contentType("application/json");
      ctx.res().setContentLength(out.length);
      ctx.res().getOutputStream().write(out);
      ctx.res().flushBuffer();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private <T> T authorized(Context ctx, Supplier<T> then) {
    String client = "anonymous";
    if (settings.keys() != null) {
      client = settings.keys().client(ctx.header(API_KEY)).orElseThrow(Unauthorized::new);
    }
    if (settings.limits() != null && !settings.limits().tryTake(client)) {
      throw new RateLimited(settings.limits().retryAfterSeconds(client));
    }
    return then.get();
  }

  private byte[] readBody(Context ctx) throws IOException {
    long declared = ctx.req().getContentLengthLong();
    int max = settings.maxBodyBytes();
    if (declared > max) {
      throw new BadRequestException("body", "body of " + declared + " bytes; at most " + max);
    }
    try (InputStream in = ctx.req().getInputStream()) {
      if (declared >= 0) {
        // the usual case: read straight into an array of the declared length, no copies
        byte[] body = new byte[(int) declared];
        int got = in.readNBytes(body, 0, body.length);
        if (got < body.length) {
          throw new BadRequestException(
              "body", "body of " + got + " bytes; Content-Length said " + declared);
        }
        return body;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        if (out.size() > max) {
          throw new BadRequestException("body", "body over " + max + " bytes");
        }
      }
      return out.toByteArray();
    }
  }

  static byte[] responseBytes(RankResult r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + r.itemIds().length * 48);
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("request_id", r.requestId());
      g.writeNumberField("user_id", r.userId());
      g.writeStringField("model_version", r.modelVersion());
      g.writeStringField("variant", r.variant());
      g.writeArrayFieldStart("predictions");
      for (int k = 0; k < r.itemIds().length; k++) {
        g.writeStartObject();
        g.writeNumberField("item_id", r.itemIds()[k]);
        g.writeNumberField("score", r.scores()[k]);
        g.writeNumberField("rank", k + 1);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("ranked_items");
      for (long id : r.itemIds()) {
        g.writeNumber(id);
      }
      g.writeEndArray();
      g.writeNumberField("latency_ms", Math.round(r.latencyMs() * 1000) / 1000.0);
      g.writeBooleanField("fallback", r.fallback());
      if (r.fallback()) {
        g.writeStringField("fallback_reason", r.fallbackReason());
      }
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  private void ready(Context ctx) throws IOException {
    Map<String, Boolean> checks = backend.readiness();
    boolean up = !draining && checks.values().stream().allMatch(Boolean::booleanValue);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", up ? "UP" : "DOWN");
    body.put("checks", checks);
    if (draining) {
      body.put("draining", true);
    }
    json(ctx, up ? 200 : 503, body);
  }

  private void badRequest(BadRequestException e, Context ctx) {
    error(ctx, 400, "bad_request", e.field(), e.field() + " " + e.getMessage());
  }

  private void internal(Exception e, Context ctx) {
    if (e instanceof io.javalin.http.HttpResponseException h) {
      int status = h.getStatus();
      if (status == HttpStatus.CONTENT_TOO_LARGE.getCode()) {
        error(ctx, 400, "bad_request", "body", "body over " + settings.maxBodyBytes() + " bytes");
      } else {
        error(ctx, status, "error", null, h.getMessage());
      }
      return;
    }
    log.error("ranker: {} {} failed: {}", ctx.method(), ctx.path(), e.toString(), e);
    error(ctx, 500, "internal", null, "internal error; see the ranker's log");
  }

  private static void error(Context ctx, int status, String code, String field, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", code);
    if (field != null) {
      body.put("field", field);
    }
    body.put("message", message);
    json(ctx, status, body);
  }

  private static void json(Context ctx, int status, Object body) {
    try {
      ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      ctx.status(500).result("{\"error\":\"internal\"}");
    }
  }

  private void recordRequest(Context ctx, Float ms) {
    String endpoint;
    try {
      endpoint = ctx.endpoint() == null ? "unmatched" : ctx.endpoint().path;
    } catch (RuntimeException e) {
      endpoint = "unmatched";
    }
    if (endpoint.equals("/metrics")) {
      return;
    }
    String status = Integer.toString(ctx.statusCode());
    timers
        .computeIfAbsent(
            endpoint,
            ep ->
                Timer.builder("ranker.request.latency")
                    .tag("endpoint", ep)
                    .publishPercentileHistogram()
                    .register(metrics))
        .record((long) (ms * 1e6), TimeUnit.NANOSECONDS);
    statuses
        .computeIfAbsent(
            endpoint + " " + status,
            k ->
                Counter.builder("ranker.requests")
                    .tag("endpoint", k.substring(0, k.lastIndexOf(' ')))
                    .tag("status", status)
                    .register(metrics))
        .increment();
  }

  /** Requests being ranked right now. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * Graceful stop: readiness turns DOWN and new rank requests get {@code 503}, requests in flight
   * finish (waiting at most {@code graceMillis}), then the server stops.
   */
  public void stop(long graceMillis) {
    draining = true;
    long deadline = System.nanoTime() + graceMillis * 1_000_000;
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    app.stop();
  }

  @Override
  public void close() {
    stop(0);
  }
}
