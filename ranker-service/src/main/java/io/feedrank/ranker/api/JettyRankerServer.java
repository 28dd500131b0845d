package io.feedrank.ranker.api;

import io.feedrank.ranker.RankResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpStatus;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Javalin (Jetty 12) front: requests run on a pool of {@code maxThreads} request threads.
 * Handlers translate JSON to a domain call and back, nothing more. No response ever carries a stack
 * trace.
 */
public final class JettyRankerServer implements RankerHttp {
  private static final Logger log = LoggerFactory.getLogger(JettyRankerServer.class);

  private final Backend backend;
  private final Settings settings;
  private final RequestParser parser = new RequestParser(System::currentTimeMillis);
  private final HttpCommon.RequestMetrics requests;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean draining;
  private final Javalin app;

  public JettyRankerServer(Backend backend, Settings settings, MeterRegistry metrics) {
    this.backend = backend;
    this.settings = settings;
    this.requests = new HttpCommon.RequestMetrics(metrics);
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
                  HttpCommon.Unauthorized.class,
                  (e, ctx) -> error(ctx, 401, "unauthorized", null, HttpCommon.UNAUTHORIZED));
              c.routes.exception(
                  HttpCommon.RateLimited.class,
                  (e, ctx) -> {
                    ctx.header("Retry-After", Long.toString(e.retryAfter));
                    error(ctx, 429, "rate_limited", null, HttpCommon.RATE_LIMITED);
                  });
              c.routes.exception(Exception.class, this::internal);
              c.routes.error(404, ctx -> error(ctx, 404, "not_found", null, HttpCommon.NOT_FOUND));
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

  @Override
  public JettyRankerServer start() {
    app.start();
    return this;
  }

  @Override
  public int port() {
    return app.port();
  }

  private void rank(Context ctx) throws IOException {
    if (draining) {
      error(ctx, 503, "shutting_down", null, HttpCommon.SHUTTING_DOWN);
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
      byte[] out = HttpCommon.responseBytes(r);
      ctx.status(200).contentType("application/json");
      ctx.res().setContentLength(out.length);
      ctx.res().getOutputStream().write(out);
      ctx.res().flushBuffer();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private <T> T authorized(Context ctx, Supplier<T> then) {
    HttpCommon.authorize(settings, ctx.header(HttpCommon.API_KEY));
    return then.get();
  }

  private byte[] readBody(Context ctx) throws IOException {
    long declared = ctx.req().getContentLengthLong();
    int max = settings.maxBodyBytes();
    if (declared > max) {
      throw new BadRequestException("body", HttpCommon.bodyTooLarge(declared, max));
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
          throw new BadRequestException("body", HttpCommon.bodyTooLarge(-1, max));
        }
      }
      return out.toByteArray();
    }
  }

  private void ready(Context ctx) {
    Map<String, Boolean> checks = backend.readiness();
    boolean up = HttpCommon.isUp(checks, draining);
    json(ctx, up ? 200 : 503, HttpCommon.readyBody(up, checks, draining));
  }

  private void badRequest(BadRequestException e, Context ctx) {
    json(ctx, 400, HttpCommon.badRequestBody(e));
  }

  private void internal(Exception e, Context ctx) {
    if (e instanceof io.javalin.http.HttpResponseException h) {
      int status = h.getStatus();
      if (status == HttpStatus.CONTENT_TOO_LARGE.getCode()) {
        error(
            ctx, 400, "bad_request", "body", HttpCommon.bodyTooLarge(-1, settings.maxBodyBytes()));
      } else {
        error(ctx, status, "error", null, h.getMessage());
      }
      return;
    }
    log.error("ranker: {} {} failed: {}", ctx.method(), ctx.path(), e.toString(), e);
    error(ctx, 500, "internal", null, HttpCommon.INTERNAL);
  }

  private static void error(Context ctx, int status, String code, String field, String message) {
    json(ctx, status, HttpCommon.errorBody(code, field, message));
  }

  private static void json(Context ctx, int status, Object body) {
    ctx.status(status).contentType("application/json").result(HttpCommon.jsonBytes(body));
  }

  private void recordRequest(Context ctx, Float ms) {
    String endpoint;
    try {
      endpoint = ctx.endpoint() == null ? "unmatched" : ctx.endpoint().path;
    } catch (RuntimeException e) {
      endpoint = "unmatched";
    }
    requests.record(endpoint, ctx.statusCode(), (long) (ms * 1e6));
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void stop(long graceMillis) {
    draining = true;
    HttpCommon.awaitDrained(inFlight, graceMillis);
    app.stop();
  }
}
