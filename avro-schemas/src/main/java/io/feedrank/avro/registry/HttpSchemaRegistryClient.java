package io.feedrank.avro.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema registry client over the Confluent REST API with {@link java.net.http.HttpClient}.
 *
 * <p>Works against Confluent Schema Registry, Karapace, Redpanda and Apicurio's {@code
 * /apis/ccompat/v7}. Schemas by id and ids of registered schemas are cached forever (the registry
 * never changes them). A schema's references to types in other subjects are read and resolved
 * ({@link SchemaReferences}). Connection failures, 5xx and 429 are retried with exponential backoff
 * up to {@link RegistryConfig#maxRetries()}; other 4xx fail at once with the registry's message.
 *
 * <p>An id the registry does not know ({@code 404}) is remembered for {@link #UNKNOWN_ID_TTL}, so
 * that a flood of records whose header names a garbage id (a producer without the registry, bytes
 * that are not the wire format) costs one call per id and interval, not one per record; at most
 * {@link #MAX_UNKNOWN_IDS} are. Not longer: a registry replica may answer before it has read a
 * schema registered on another, and the readers that wait for such an id ({@link
 * io.feedrank.avro.serde.UnknownIdPatience}) read again after a second or two. At 10 s, the client
 * answered their next reads itself.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {
  private static final Logger log = LoggerFactory.getLogger(HttpSchemaRegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RegistryConfig config;
  private final HttpClient http;
  private final String authHeader;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
  // deleted=true, as Confluent's own client reads references: a soft-deleted version still defines
  // the types of the records written before it was deleted
  private final SchemaReferences references =
      new SchemaReferences(
          (subject, version, what) ->
              call(
                  "GET",
                  "/subjects/" + enc(subject) + "/versions/" + enc(version) + "?deleted=true",
                  null,
                  what));

  static final Duration UNKNOWN_ID_TTL = Duration.ofSeconds(1);
  static final int MAX_UNKNOWN_IDS = 10_000;

  /** Ids the registry answered 404 for: the answer and when (nanoTime) it stops being believed. */
  private final Map<Integer, UnknownId> unknownIds = new ConcurrentHashMap<>();

  private final LongSupplier nanoClock;

  private record UnknownId(SchemaRegistryException answer, long untilNanos) {}

  /** The index of the URL that last answered: where the next call begins. */
  private final AtomicInteger answered = new AtomicInteger();

  public HttpSchemaRegistryClient(RegistryConfig config) {
    this(config, System::nanoTime);
  }

  HttpSchemaRegistryClient(RegistryConfig config, LongSupplier nanoClock) {
    this.config = config;
    this.nanoClock = nanoClock;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(config.requestTimeout())
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    this.authHeader =
        config.basicAuthUserInfo() == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(config.basicAuthUserInfo().getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public int register(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode body =
        call(
            "POST",
            "/subjects/" + enc(subject) + "/versions",
            schemaBody(schema),
            "register schema under '" + subject + "'");
    int id = body.path("id").asInt(-1);
    if (id < 0) {
      throw new SchemaRegistryException(
          "registry answered without an id for subject '" + subject + "': " + body, 200, -1, null);
    }
    idsBySubjectAndSchema.put(key, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public Optional<Integer> lookup(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return Optional.of(cached);
    }
    try {
      JsonNode body =
          call(
              "POST",
              "/subjects/" + enc(subject),
              schemaBody(schema),
              "look up schema under '" + subject + "'");
      int id = body.path("id").asInt(-1);
      if (id < 0) {
        throw new SchemaRegistryException(
            "registry answered a look-up under '" + subject + "' without an id: " + body,
            200,
            -1,
            null);
      }
      idsBySubjectAndSchema.put(key, id);
      return Optional.of(id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    UnknownId unknown = unknownIds.get(id);
    if (unknown != null) {
      if (nanoClock.getAsLong() - unknown.untilNanos() < 0) {
        SchemaRegistryException e = unknown.answer();
        throw new SchemaRegistryException(e.getMessage(), e.status(), e.errorCode(), null);
      }
      unknownIds.remove(id, unknown);
    }
    JsonNode body;
    try {
      body = call("GET", "/schemas/ids/" + id, null, "fetch schema id " + id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        rememberUnknown(id, e);
      }
      throw e;
    }
    String type = body.path("schemaType").asText("AVRO");
    if (!"AVRO".equals(type)) {
      throw new SchemaRegistryException(
          "schema id " + id + " is " + type + ", not AVRO",
          SchemaRegistryException.UNUSABLE_SCHEMA,
          -1,
          null);
    }
    Schema schema = references.parse(body, "schema id " + id);
    Schema previous = schemasById.putIfAbsent(id, schema);
    return previous != null ? previous : schema;
  }

  private void rememberUnknown(int id, SchemaRegistryException answer) {
    long now = nanoClock.getAsLong();
    if (unknownIds.size() >= MAX_UNKNOWN_IDS) {
      unknownIds.values().removeIf(u -> now - u.untilNanos() >= 0);
      if (unknownIds.size() >= MAX_UNKNOWN_IDS) {
        return; // a flood of distinct ids: each asked again, none held
      }
    }
    unknownIds.put(id, new UnknownId(answer, now + UNKNOWN_ID_TTL.toNanos()));
  }

  @Override
  public Optional<RegisteredSchema> latest(String subject) {
    try {
      JsonNode body =
          call(
              "GET",
              "/subjects/" + enc(subject) + "/versions/latest",
              null,
              "fetch latest of '" + subject + "'");
      int id = body.path("id").asInt();
      Schema schema = references.parse(body, "latest of " + subject);
      schemasById.putIfAbsent(id, schema);
      return Optional.of(new RegisteredSchema(subject, body.path("version").asInt(), id, schema));
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void setCompatibility(String subject, String level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level);
    call(
        "PUT",
        "/config/" + enc(subject),
        body.toString(),
        "set compatibility of '" + subject + "'");
  }

  @Override
  public Optional<String> compatibility(String subject) {
    try {
      JsonNode body =
          call("GET", "/config/" + enc(subject), null, "read compatibility of '" + subject + "'");
      // Confluent answers compatibilityLevel on GET; some servers answer compatibility
      String level =
          body.path("compatibilityLevel").asText(body.path("compatibility").asText(null));
      return Optional.ofNullable(level);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    try {
      JsonNode body =
          call(
              "POST",
              "/compatibility/subjects/" + enc(subject) + "/versions/latest",
              schemaBody(schema),
              "test compatibility under '" + subject + "'");
      return body.path("is_compatible").asBoolean(false);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return true; // nothing registered yet: anything is compatible
      }
      throw e;
    }
  }

  /**
   * One call: each attempt tries every URL in turn, from the one that last answered, moving on when
   * one cannot be reached or answers 5xx / 429; then the attempt backs off before the next. Before,
   * an attempt tried one URL, so with no retries the second URL was never tried, and every call
   * began with the first, paying its timeout while it was down.
   */
  private JsonNode call(String method, String path, String body, String what) {
    SchemaRegistryException last = null;
    Duration backoff = config.initialBackoff();
    int urls = config.urls().size();
    for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
      if (attempt > 0) {
        sleep(backoff);
        backoff = min(backoff.multipliedBy(2), config.maxBackoff());
      }
      int first = answered.get();
      for (int k = 0; k < urls; k++) {
        int index = (first + k) % urls;
        try {
          return callOnce(index, method, path, body, what, attempt);
        } catch (Retriable r) {
          last = r.error;
        }
      }
    }
    throw last;
  }

  /** A failure worth trying elsewhere or again: the registry was unreachable or overloaded. */
  private static final class Retriable extends Exception {
    final SchemaRegistryException error;

    Retriable(SchemaRegistryException error) {
      super(null, null, false, false);
      this.error = error;
    }
  }

  private JsonNode callOnce(
      int index, String method, String path, String body, String what, int attempt)
      throws Retriable {
    URI base = config.urls().get(index);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(config.requestTimeout())
            .header("Accept", CONTENT_TYPE + ", application/json");
    if (authHeader != null) {
      req.header("Authorization", authHeader);
    }
    req.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      req.header("Content-Type", CONTENT_TYPE);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      log.debug(
          "registry: {} failed at {} on attempt {}: {}", what, base, attempt + 1, e.toString());
      throw new Retriable(
          new SchemaRegistryException(
              "schema registry unreachable at " + base + " (" + what + "): " + e, 0, -1, e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException("interrupted while trying to " + what, 0, -1, e);
    }
    int status = resp.statusCode();
    answered.set(index);
    if (status >= 200 && status < 300) {
      return readJson(resp.body(), what);
    }
    SchemaRegistryException error = errorOf(resp, what);
    if (status >= 500 || status == 429) {
      log.debug("registry: {} answered {} at {} on attempt {}", what, status, base, attempt + 1);
      throw new Retriable(error);
    }
    throw error;
  }

  private static SchemaRegistryException errorOf(HttpResponse<String> resp, String what) {
    int code = -1;
    String message = resp.body();
    try {
      JsonNode n = JSON.readTree(resp.body());
      if (n != null && n.has("message")) {
        message = n.path("message").asText();
        code = n.path("error_code").asInt(-1);
      }
    } catch (IOException ignored) {
      // not JSON: keep the raw body as the message
    }
    return new SchemaRegistryException(
        "schema registry refused to "
            + what
            + ": HTTP "
            + resp.statusCode()
            + (code >= 0 ? " error " + code : "")
            + ": "
            + message,
        resp.statusCode(),
        code,
        null);
  }

  private static JsonNode readJson(String body, String what) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new SchemaRegistryException(
          "schema registry answered malformed JSON to " + what + ": " + body, 200, -1, e);
    }
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  /**
   * Percent-encodes a path segment (URLEncoder is form encoding: it would turn a space into '+').
   */
  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException("interrupted during registry retry backoff", 0, -1, e);
    }
  }

  @Override
  public String toString() {
    return "HttpSchemaRegistryClient[" + config + "]";
  }
}
