package io.feedrank.ranker.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What the HTTP front uses besides its routing: authentication, the response and error bodies,
 * request metrics, draining.
 */
final class HttpCommon {
  /**
   * Scores are written with Jackson's Schubfach writer: the JDK 17 {@code Float.toString} it
   * replaces builds each number through {@code FloatingDecimal}, a thousand times for a
   * 1,000-candidate response. Both give a decimal that reads back as the same float.
   */
  static final ObjectMapper JSON =
      new ObjectMapper(
          JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build());

  static final String API_KEY = "X-API-Key";
  static final String UNAUTHORIZED = "missing or invalid " + API_KEY + " header";

  /**
   * The challenge every {@code 401} carries, as HTTP requires: the scheme is the API key in its
   * header (a client with an {@code Authenticator}, such as the JDK's, fails on a 401 without one).
   */
  static final String CHALLENGE = "ApiKey header=\"" + API_KEY + "\"";

  /**
   * The header that marks a rank request synthetic ({@code true}; {@code false} or no header: not
   * synthetic): the load tests send it, so that their traffic does not read as drift.
   */
  static final String SYNTHETIC = "X-Feedrank-Synthetic";

  static final String RATE_LIMITED = "rate limit exceeded for this client";
  static final String SHUTTING_DOWN = "the ranker is shutting down";
  static final String NOT_FOUND = "no such endpoint";
  static final String INTERNAL = "internal error; see the ranker's log";

  private HttpCommon() {}

  static final class Unauthorized extends RuntimeException {
    Unauthorized() {
      super(null, null, false, false);
    }
  }

  static final class RateLimited extends RuntimeException {
    final long retryAfter;

    RateLimited(long retryAfter) {
      super(null, null, false, false);
      this.retryAfter = retryAfter;
    }
  }

  /**
   * Checks the API key (when keys are configured) and takes a token of its client's bucket. Without
   * keys every request is the one client {@code anonymous}: the limit is then the service's.
   */
  static void authorize(RankerHttp.Settings settings, String key) {
    String client = authenticate(settings, key);
    if (settings.limits() != null && !settings.limits().tryTake(client)) {
      throw new RateLimited(settings.limits().retryAfterSeconds(client));
    }
  }

  /** The client a key belongs to ({@code anonymous} without keys), taking no token. */
  static String authenticate(RankerHttp.Settings settings, String key) {
    return settings.keys() == null
        ? "anonymous"
        : settings.keys().client(key).orElseThrow(Unauthorized::new);
  }

  /** Whether {@link #SYNTHETIC}'s value marks the request synthetic; a 400 for another value. */
  static boolean synthetic(String header) {
    if (header == null || header.equalsIgnoreCase("false")) {
      return false;
    }
    if (header.equalsIgnoreCase("true")) {
      return true;
    }
    throw new BadRequestException(SYNTHETIC, "must be true or false");
  }

  static byte[] responseBytes(RankResult r) {
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
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  static Map<String, Object> errorBody(String code, String field, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", code);
    if (field != null) {
      body.put("field", field);
    }
    body.put("message", message);
    return body;
  }

  /**
   * Whether a rank request's {@code Content-Type} is JSON: {@code application/json} or a type with
   * the {@code +json} suffix, with any parameters, a {@code charset} being one JSON can be read in
   * (UTF-8, -16 or -32, which the parser tells apart by the bytes); none at all is taken as JSON,
   * as a client of a JSON-only API may leave it out. A form (curl's {@code -d} without a type),
   * text or XML is not, nor JSON said to be in another charset (ISO-8859-1 read as UTF-8: its
   * non-ASCII bytes misread, or refused as malformed JSON).
   */
  static boolean isJson(String contentType) {
    return contentType == null || (isJsonMedia(contentType) && readableCharset(contentType));
  }

  private static boolean isJsonMedia(String contentType) {
    int semicolon = contentType.indexOf(';');
    String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
    if (media.equalsIgnoreCase("application/json")) {
      return true;
    }
    String lower = media.toLowerCase(Locale.ROOT);
    return lower.startsWith("application/") && lower.endsWith("+json");
  }

  private static final Set<String> JSON_CHARSETS =
      Set.of("utf-8", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-32be", "utf-32le");

  /** Whether the type's {@code charset} parameter, if it has one, is one of JSON's. */
  private static boolean readableCharset(String contentType) {
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      int equals = parts[i].indexOf('=');
      if (equals > 0 && parts[i].substring(0, equals).strip().equalsIgnoreCase("charset")) {
        String charset = parts[i].substring(equals + 1).strip().replace("\"", "");
        return JSON_CHARSETS.contains(charset.toLowerCase(Locale.ROOT));
      }
    }
    return true;
  }

  /** The body of a {@code 415} for the type: names the header and what it said. */
  static Map<String, Object> unsupportedType(String contentType) {
    return errorBody(
        "unsupported_media_type",
        "Content-Type",
        "Content-Type is "
            + said(contentType)
            + (isJsonMedia(contentType)
                ? "; the body must be in UTF-8, UTF-16 or UTF-32"
                : "; the body must be application/json"));
  }

  /**
   * Whether a request's {@code Content-Encoding} leaves its body as it is: none, or only {@code
   * identity}. The body is not decoded here (gzip would be read as malformed JSON).
   */
  static boolean isIdentity(String contentEncoding) {
    if (contentEncoding == null) {
      return true;
    }
    for (String coding : contentEncoding.split(",")) {
      if (!coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) {
        return false;
      }
    }
    return true;
  }

  /** The body of a {@code 415} for the encoding: names the header and what it said. */
  static Map<String, Object> unsupportedEncoding(String contentEncoding) {
    return errorBody(
        "unsupported_media_type",
        "Content-Encoding",
        "Content-Encoding is " + said(contentEncoding) + "; the body must not be encoded");
  }

  /** A header's value as an answer repeats it: at most 100 characters. */
  private static String said(String value) {
    return value.length() > 100 ? value.substring(0, 100) + "..." : value;
  }

  static Map<String, Object> badRequestBody(BadRequestException e) {
    return errorBody("bad_request", e.field(), e.field() + " " + e.getMessage());
  }

  /**
   * The message of a body over the limit, given its declared length (-1 when it was not declared);
   * it follows the field name {@code body}, as every 400's message follows its field.
   */
  static String bodyTooLarge(long declared, int max) {
    return declared >= 0
        ? "is " + declared + " bytes; at most " + max
        : "is over " + max + " bytes";
  }

  /**
   * The body of {@code GET /health/ready}, given whether it is {@link #isUp}, with the state of the
   * dependencies the service degrades around ({@link RankerHttp.Backend#dependencies}).
   */
  static Map<String, Object> readyBody(
      boolean up,
      Map<String, Boolean> checks,
      Map<String, Boolean> dependencies,
      boolean draining) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", up ? "UP" : "DOWN");
    body.put("checks", checks);
    if (!dependencies.isEmpty()) {
      body.put("dependencies", dependencies);
    }
    if (draining) {
      body.put("draining", true);
    }
    return body;
  }

  static boolean isUp(Map<String, Boolean> checks, boolean draining) {
    return !draining && checks.values().stream().allMatch(Boolean::booleanValue);
  }

  static byte[] jsonBytes(Object body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      return "{\"error\":\"internal\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  /** Waits, at most {@code graceMillis}, until no request is in flight. */
  static void awaitDrained(AtomicInteger inFlight, long graceMillis) {
    long deadline = System.nanoTime() + graceMillis * 1_000_000;
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * {@code ranker.request.latency} by endpoint (answers other than 4xx) and {@code ranker.requests}
   * by endpoint, status. A request finds its meters by one map lookup of the endpoint and an array
   * read of the status.
   */
  static final class RequestMetrics {
    private final MeterRegistry metrics;
    private final Map<String, EndpointMeters> endpoints = new ConcurrentHashMap<>();

    RequestMetrics(MeterRegistry metrics) {
      this.metrics = metrics;
      // the rank endpoints' counters of every status they answer with, from the start at 0:
      // Prometheus's increase() starts from a series' first sample, so a counter first exported
      // at 1 would hide that first request (a 500 from the error-rate alert)
      for (String endpoint : RANK_ENDPOINTS) {
        EndpointMeters m = endpoints.computeIfAbsent(endpoint, EndpointMeters::new);
        for (int status : RANK_STATUSES) {
          m.requests(status);
        }
      }
    }

    static final List<String> RANK_ENDPOINTS = List.of("/v1/rank", "/predict");
    private static final int[] RANK_STATUSES = {200, 400, 401, 429, 500, 503};

    void record(String endpoint, int statusCode, long nanos) {
      if (endpoint.equals("/metrics")) {
        return;
      }
      EndpointMeters m = endpoints.computeIfAbsent(endpoint, EndpointMeters::new);
      if (statusCode < 400 || statusCode >= 500) {
        // a refusal (400, 401, 429) is answered in microseconds: a storm of them, 429s when the
        // service is overloaded above all, would pull the p99 that alerts and autoscaling read
        // down exactly when it matters; they are counted by status below
        m.latency.record(nanos, TimeUnit.NANOSECONDS);
      }
      m.requests(statusCode).increment();
    }

    private final class EndpointMeters {
      private final String endpoint;
      private final Timer latency;
      private final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(600);

      EndpointMeters(String endpoint) {
        this.endpoint = endpoint;
        this.latency = RequestLatency.register(metrics, endpoint);
      }

      Counter requests(int status) {
        if (status < 0 || status >= byStatus.length()) {
          return counter(status);
        }
        Counter c = byStatus.get(status);
        if (c == null) {
          c = counter(status); // the registry returns the one meter to racing threads
          byStatus.set(status, c);
        }
        return c;
      }

      private Counter counter(int status) {
        return Counter.builder("ranker.requests")
            .tag("endpoint", endpoint)
            .tag("status", Integer.toString(status))
            .register(metrics);
      }
    }
  }
}
