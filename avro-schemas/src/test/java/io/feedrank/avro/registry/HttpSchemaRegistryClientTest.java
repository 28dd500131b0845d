package io.feedrank.avro.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.feedrank.events.InteractionEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpSchemaRegistryClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final Schema SCHEMA = InteractionEvent.getClassSchema();
  private static final Schema OTHER =
      SchemaBuilder.record("Other").namespace("t").fields().requiredInt("a").endRecord();

  private final List<ScriptedHttpPeer> peers = new ArrayList<>();

  @AfterEach
  void stopPeers() {
    peers.forEach(ScriptedHttpPeer::close);
  }

  private ScriptedHttpPeer peer() throws IOException {
    ScriptedHttpPeer p = new ScriptedHttpPeer();
    peers.add(p);
    return p;
  }

  private static HttpSchemaRegistryClient client(String urls, int retries) {
    return new HttpSchemaRegistryClient(
        RegistryConfig.of(urls).withRetries(retries, Duration.ofMillis(1), Duration.ofMillis(2)));
  }

  private static String schemaJson(Schema s) {
    return JSON.createObjectNode().put("schema", s.toString()).toString();
  }

  private static String error(int code, String message) {
    return JSON.createObjectNode().put("error_code", code).put("message", message).toString();
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  // ---------------------------------------------------------------- retries

  @Test
  void retries503ThenSucceeds() throws IOException {
    ScriptedHttpPeer p = peer().then(503, "").then(503, "busy").then(200, schemaJson(SCHEMA));

    Schema s = client(p.url(), 5).schemaById(3);

    assertThat(s).isEqualTo(SCHEMA);
    assertThat(p.requests()).hasSize(3);
    assertThat(p.requests())
        .allSatisfy(
            r -> {
              assertThat(r.method()).isEqualTo("GET");
              assertThat(r.path()).isEqualTo("/schemas/ids/3");
            });
  }

  @Test
  void retries429ThenSucceeds() throws IOException {
    ScriptedHttpPeer p =
        peer().then(429, error(42901, "Too many requests")).then(200, "{\"id\":17}");

    assertThat(client(p.url(), 3).register("s-value", SCHEMA)).isEqualTo(17);
    assertThat(p.requests()).hasSize(2);
  }

  @Test
  void givesUpAfterMaxRetriesWithTheLastError() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(500, error(50001, "first"))
            .then(502, error(50002, "second"))
            .then(503, error(50003, "third"))
            .then(200, schemaJson(SCHEMA));

    SchemaRegistryException e =
        catchThrowableOfType(SchemaRegistryException.class, () -> client(p.url(), 2).schemaById(1));

    assertThat(p.requests()).hasSize(3);
    assertThat(e.status()).isEqualTo(503);
    assertThat(e.errorCode()).isEqualTo(50003);
    assertThat(e.getMessage()).contains("third").doesNotContain("first");
  }

  @Test
  void zeroRetriesMeansOneAttempt() throws IOException {
    ScriptedHttpPeer p = peer().then(503, "").then(200, schemaJson(SCHEMA));

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOf(SchemaRegistryException.class);
    assertThat(p.requests()).hasSize(1);
  }

  @Test
  void notFoundIsNotRetriedAndCarriesTheRegistryError() throws IOException {
    ScriptedHttpPeer p =
        peer().then(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");

    SchemaRegistryException e =
        catchThrowableOfType(
            SchemaRegistryException.class, () -> client(p.url(), 5).schemaById(99));

    assertThat(p.requests()).hasSize(1);
    assertThat(e.status()).isEqualTo(404);
    assertThat(e.errorCode()).isEqualTo(40403);
    assertThat(e.getMessage())
        .contains("Schema not found")
        .contains("40403")
        .contains("HTTP 404")
        .contains("schema id 99");
    assertThat(e.isNotFound()).isTrue();
    assertThat(e.isIncompatible()).isFalse();
  }

  @Test
  void conflictIsNotRetriedAndIsIncompatible() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(
                409, error(409, "Schema being registered is incompatible with an earlier schema"));

    SchemaRegistryException e =
        catchThrowableOfType(
            SchemaRegistryException.class, () -> client(p.url(), 5).register("x-value", SCHEMA));

    assertThat(p.requests()).hasSize(1);
    assertThat(e.status()).isEqualTo(409);
    assertThat(e.errorCode()).isEqualTo(409);
    assertThat(e.getMessage()).contains("incompatible with an earlier schema").contains("x-value");
    assertThat(e.isIncompatible()).isTrue();
    assertThat(e.isNotFound()).isFalse();
  }

  @Test
  void unprocessableIsNotRetriedAndIsNeitherNotFoundNorIncompatible() throws IOException {
    ScriptedHttpPeer p = peer().then(422, error(42201, "Invalid schema"));

    SchemaRegistryException e =
        catchThrowableOfType(
            SchemaRegistryException.class, () -> client(p.url(), 5).register("x-value", SCHEMA));

    assertThat(p.requests()).hasSize(1);
    assertThat(e.status()).isEqualTo(422);
    assertThat(e.errorCode()).isEqualTo(42201);
    assertThat(e.getMessage()).contains("Invalid schema");
    assertThat(e.isNotFound()).isFalse();
    assertThat(e.isIncompatible()).isFalse();
  }

  @Test
  void nonJsonErrorBodyEndsUpInTheMessage() throws IOException {
    ScriptedHttpPeer p =
        peer().otherwise(500, "<html><body>502 Bad Gateway from nginx</body></html>");

    SchemaRegistryException e =
        catchThrowableOfType(SchemaRegistryException.class, () -> client(p.url(), 1).schemaById(1));

    assertThat(p.requests()).hasSize(2);
    assertThat(e.status()).isEqualTo(500);
    assertThat(e.errorCode()).isEqualTo(-1);
    assertThat(e.getMessage()).contains("<html><body>502 Bad Gateway from nginx</body></html>");
  }

  @Test
  void malformedJsonOnSuccessIsReported() throws IOException {
    ScriptedHttpPeer p = peer().then(200, "{not json");

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("malformed JSON")
        .hasMessageContaining("{not json");
  }

  // ---------------------------------------------------------------- failover and unreachable

  @Test
  void failsOverToTheSecondUrlWhenTheFirstRefusesConnections() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA));
    String urls = "http://127.0.0.1:" + closedPort() + "," + p.url();

    assertThat(client(urls, 1).schemaById(5)).isEqualTo(SCHEMA);
    assertThat(p.requests()).hasSize(1);
  }

  /**
   * Without retries too, a call tries the second URL when the first cannot serve it (it tried one
   * URL an attempt); and the next call begins where the last one was answered, so the first URL is
   * not asked again while the second answers.
   */
  @Test
  void everyAttemptTriesEveryUrlAndTheNextCallBeginsWithTheOneThatAnswered() throws IOException {
    ScriptedHttpPeer first = peer().then(503, error(50301, "overloaded"));
    ScriptedHttpPeer second = peer().then(200, schemaJson(SCHEMA)).then(200, schemaJson(OTHER));
    HttpSchemaRegistryClient c = client(first.url() + "," + second.url(), 0);

    assertThat(c.schemaById(5)).isEqualTo(SCHEMA);
    assertThat(c.schemaById(6)).isEqualTo(OTHER);
    assertThat(first.requests()).hasSize(1);
    assertThat(second.requests()).hasSize(2);

    ScriptedHttpPeer only = peer().then(200, schemaJson(SCHEMA));
    String refusedFirst = "http://127.0.0.1:" + closedPort() + "," + only.url();
    assertThat(client(refusedFirst, 0).schemaById(5)).isEqualTo(SCHEMA);
  }

  @Test
  void unreachableRegistryFailsWithStatusZeroAfterAllAttempts() throws IOException {
    int port = closedPort();

    SchemaRegistryException e =
        catchThrowableOfType(
            SchemaRegistryException.class,
            () -> client("http://127.0.0.1:" + port, 2).schemaById(1));

    assertThat(e.status()).isZero();
    assertThat(e.getMessage()).contains("unreachable").contains("127.0.0.1:" + port);
    assertThat(e.getCause()).isInstanceOf(IOException.class);
  }

  @Test
  void baseUrlPathPrefixIsKept() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA));

    client(p.url("/apis/ccompat/v7/"), 0).schemaById(12);

    assertThat(p.onlyRequest().path()).isEqualTo("/apis/ccompat/v7/schemas/ids/12");
  }

  // ---------------------------------------------------------------- auth

  @Test
  void sendsBasicAuthWhenConfigured() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA));
    HttpSchemaRegistryClient c =
        new HttpSchemaRegistryClient(
            RegistryConfig.of(p.url())
                .withBasicAuth("alice:pä:ss")
                .withRetries(0, Duration.ofMillis(1), Duration.ofMillis(1)));

    c.schemaById(1);

    String expected =
        "Basic "
            + Base64.getEncoder().encodeToString("alice:pä:ss".getBytes(StandardCharsets.UTF_8));
    assertThat(p.onlyRequest().header("Authorization")).isEqualTo(expected);
    assertThat(c.toString()).doesNotContain("pä:ss");
  }

  @Test
  void sendsNoAuthorizationHeaderWithoutBasicAuth() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA));

    client(p.url(), 0).schemaById(1);

    assertThat(p.onlyRequest().header("Authorization")).isNull();
  }

  // ---------------------------------------------------------------- caching and bodies

  @Test
  void schemaByIdIsCached() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA)).then(200, schemaJson(OTHER));
    HttpSchemaRegistryClient c = client(p.url(), 0);

    Schema first = c.schemaById(4);
    Schema second = c.schemaById(4);

    assertThat(first).isEqualTo(SCHEMA).isSameAs(second);
    assertThat(p.requests()).hasSize(1);
    assertThat(c.schemaById(5)).isEqualTo(OTHER);
    assertThat(p.requests()).hasSize(2);
  }

  /**
   * An id the registry does not know is asked once per {@link
   * HttpSchemaRegistryClient#UNKNOWN_ID_TTL}: a flood of records naming it costs one call, each
   * refused with the registry's answer; past the interval it is asked again, and an id registered
   * since (a replica that had not read it yet) is then found.
   */
  @Test
  void anUnknownIdIsAskedOncePerInterval() throws IOException {
    String notFound = "{\"error_code\":40403,\"message\":\"Schema not found\"}";
    ScriptedHttpPeer p =
        peer().then(404, notFound).then(404, notFound).then(200, schemaJson(SCHEMA));
    long[] now = {0};
    HttpSchemaRegistryClient c =
        new HttpSchemaRegistryClient(
            RegistryConfig.of(p.url()).withRetries(0, Duration.ofMillis(1), Duration.ofMillis(2)),
            () -> now[0]);

    for (int i = 0; i < 100; i++) {
      SchemaRegistryException e =
          catchThrowableOfType(SchemaRegistryException.class, () -> c.schemaById(99));
      assertThat(e.isNotFound()).isTrue();
      assertThat(e.errorCode()).isEqualTo(40403);
      assertThat(e.getMessage()).contains("schema id 99").contains("Schema not found");
    }
    assertThat(p.requests()).hasSize(1);

    now[0] = HttpSchemaRegistryClient.UNKNOWN_ID_TTL.toNanos() - 1;
    assertThat(catchThrowableOfType(SchemaRegistryException.class, () -> c.schemaById(99)))
        .isNotNull();
    assertThat(p.requests()).hasSize(1);
    assertThat(catchThrowableOfType(SchemaRegistryException.class, () -> c.schemaById(98)))
        .isNotNull(); // another id is its own question
    assertThat(p.requests()).hasSize(2);

    now[0] = HttpSchemaRegistryClient.UNKNOWN_ID_TTL.toNanos();
    assertThat(c.schemaById(99)).isEqualTo(SCHEMA);
    assertThat(p.requests()).hasSize(3);
    assertThat(c.schemaById(99)).isEqualTo(SCHEMA);
    assertThat(p.requests()).hasSize(3);
  }

  @Test
  void registerSendsTheSchemaAsJsonAndIsCachedPerSubjectAndSchema() throws IOException {
    ScriptedHttpPeer p =
        peer().then(200, "{\"id\":21}").then(200, "{\"id\":21}").then(200, "{\"id\":22}");
    HttpSchemaRegistryClient c = client(p.url(), 0);

    assertThat(c.register("interactions-value", SCHEMA)).isEqualTo(21);
    assertThat(c.register("interactions-value", SCHEMA)).isEqualTo(21);
    assertThat(p.requests()).hasSize(1);

    ScriptedHttpPeer.Request r = p.requests().get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.path()).isEqualTo("/subjects/interactions-value/versions");
    assertThat(r.header("Content-Type")).isEqualTo(CONTENT_TYPE);
    assertThat(r.header("Accept")).contains(CONTENT_TYPE);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.size()).isEqualTo(1);
    assertThat(body.get("schema").isTextual()).isTrue();
    assertThat(body.get("schema").asText()).isEqualTo(SCHEMA.toString());
    assertThat(new Schema.Parser().parse(body.get("schema").asText())).isEqualTo(SCHEMA);

    // another subject, or another schema, is another request
    assertThat(c.register("other-value", SCHEMA)).isEqualTo(21);
    assertThat(c.register("interactions-value", OTHER)).isEqualTo(22);
    assertThat(p.requests()).hasSize(3);

    // the registered schema is known by id without asking, and lookup is answered from the cache
    assertThat(c.schemaById(21)).isEqualTo(SCHEMA);
    assertThat(c.lookup("interactions-value", SCHEMA)).contains(21);
    assertThat(p.requests()).hasSize(3);
  }

  @Test
  void registerWithoutIdInTheAnswerFails() throws IOException {
    ScriptedHttpPeer p = peer().then(200, "{\"version\":1}").then(200, "{\"id\":3}");
    HttpSchemaRegistryClient c = client(p.url(), 0);

    assertThatThrownBy(() -> c.register("s", SCHEMA))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("without an id");
    // the failure was not cached
    assertThat(c.register("s", SCHEMA)).isEqualTo(3);
  }

  @Test
  void getRequestsHaveNoContentType() throws IOException {
    ScriptedHttpPeer p = peer().then(200, schemaJson(SCHEMA));

    client(p.url(), 0).schemaById(1);

    assertThat(p.onlyRequest().header("Content-Type")).isNull();
    assertThat(p.onlyRequest().body()).isEmpty();
  }

  @Test
  void nonAvroSchemaIdIsRefused() throws IOException {
    ScriptedHttpPeer p =
        peer().then(200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(8))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("PROTOBUF")
        .hasMessageContaining("not AVRO")
        .matches(e -> ((SchemaRegistryException) e).isUnusableSchema(), "unusable schema");
  }

  @Test
  void unparseableSchemaIsRefused() throws IOException {
    ScriptedHttpPeer p = peer().then(200, "{\"schema\":\"{\\\"type\\\":\\\"nope\\\"}\"}");

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(8))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("unparseable")
        // Avro this client cannot parse may be its own limit: not skipped as the record's fault
        .matches(e -> !((SchemaRegistryException) e).isUnusableSchema(), "not an unusable schema");
  }

  // ---------------------------------------------------------------- references

  private static String withReferences(String text, String... subjects) {
    ObjectNode body = JSON.createObjectNode().put("schema", text);
    ArrayNode refs = body.putArray("references");
    for (String subject : subjects) {
      refs.addObject()
          .put("name", "t." + subject.toUpperCase())
          .put("subject", subject)
          .put("version", 1);
    }
    return body.toString();
  }

  private static String record(String name, String field, String type) {
    return "{\"type\":\"record\",\"name\":\""
        + name
        + "\",\"namespace\":\"t\",\"fields\":[{\"name\":\""
        + field
        + "\",\"type\":\""
        + type
        + "\"}]}";
  }

  @Test
  void referencesAreReadOnceAndATypeTwoShareIsParsedOnce() throws IOException {
    String c = "{\"type\":\"enum\",\"name\":\"C\",\"namespace\":\"t\",\"symbols\":[\"X\"]}";
    String m =
        "{\"type\":\"record\",\"name\":\"M\",\"namespace\":\"t\",\"fields\":["
            + "{\"name\":\"a\",\"type\":\"t.A\"},{\"name\":\"b\",\"type\":\"t.B\"}]}";
    ScriptedHttpPeer p =
        peer()
            .then(200, withReferences(m, "a", "b"))
            .then(200, withReferences(record("A", "c", "t.C"), "c"))
            .then(200, withReferences(c))
            .then(200, withReferences(record("B", "c", "t.C"), "c"))
            .then(200, withReferences(record("M2", "a", "t.A"), "a"));
    HttpSchemaRegistryClient client = client(p.url(), 0);

    Schema first = client.schemaById(1);
    Schema second = client.schemaById(2);

    assertThat(first.getField("b").schema().getField("c").schema().getEnumSymbols())
        .containsExactly("X");
    assertThat(second.getField("a").schema().getField("c").schema().getEnumSymbols())
        .containsExactly("X");
    assertThat(p.requests())
        .extracting(ScriptedHttpPeer.Request::path)
        .containsExactly(
            "/schemas/ids/1",
            "/subjects/a/versions/1",
            "/subjects/c/versions/1",
            "/subjects/b/versions/1",
            "/schemas/ids/2");
  }

  @Test
  void aReferenceTheRegistryCannotGiveNowIsNotUnusable() throws IOException {
    ScriptedHttpPeer p =
        peer().then(200, withReferences(record("M", "a", "t.A"), "a")).then(503, "busy");

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.isUnusableSchema()).isFalse();
            })
        .hasMessageContaining("reference t.A (subject 'a', version 1) of schema id 1");
  }

  /**
   * A referenced version deleted for good: the registry answered, and a reader of its records would
   * wait for ever. (Apicurio 3.0.9 cannot be brought there: it refuses such a deletion, or answers
   * 400 for the id once a reference is gone.)
   */
  @Test
  void aReferenceTheRegistryDoesNotHaveIsUnusableNamingIt() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, withReferences(record("M", "a", "t.A"), "a"))
            .then(404, error(40401, "Subject 'a' not found."));

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isUnusableSchema()).isTrue())
        .hasMessageContaining("reference t.A (subject 'a', version 1) of schema id 1")
        .hasMessageContaining("not in the registry")
        .hasMessageContaining("Subject 'a' not found.");
    assertThat(p.requests().get(1).path()).isEqualTo("/subjects/a/versions/1");
  }

  @Test
  void aReferenceThatRefersBackToItselfIsUnusable() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, withReferences(record("M", "a", "t.A"), "a"))
            .then(200, withReferences(record("A", "a", "t.A"), "a"));

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isUnusableSchema()).isTrue())
        .hasMessageContaining("refers back to itself");
    assertThat(p.requests()).hasSize(2);
  }

  /**
   * As text without references that does not parse: not unusable (the parser may be the limit, and
   * its records would be lost for it), the message naming the reference.
   */
  @Test
  void aReferencedTextThatDoesNotParseIsNotUnusableAndNamesTheReference() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, withReferences(record("M", "a", "t.A"), "a"))
            .then(200, withReferences(record("A", "x", "nope")));

    assertThatThrownBy(() -> client(p.url(), 0).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.isUnusableSchema()).isFalse();
              assertThat(e.isNotFound()).isFalse();
            })
        .hasMessageContaining(
            "reference t.A (subject 'a', version 1) of schema id 1 does not parse")
        .hasMessageContaining("nope");
  }

  // ---------------------------------------------------------------- lookup / latest / config

  @Test
  void lookupReturnsTheIdOrEmptyOn404() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, "{\"subject\":\"a-value\",\"id\":31,\"version\":2}")
            .then(404, error(40403, "Schema not found"))
            .then(404, error(40401, "Subject not found"));
    HttpSchemaRegistryClient c = client(p.url(), 3);

    assertThat(c.lookup("a-value", SCHEMA)).contains(31);
    assertThat(c.lookup("a-value", OTHER)).isEmpty();
    assertThat(c.lookup("b-value", SCHEMA)).isEmpty();

    assertThat(p.requests()).hasSize(3);
    assertThat(p.requests().get(0).method()).isEqualTo("POST");
    assertThat(p.requests().get(0).path()).isEqualTo("/subjects/a-value");
    assertThat(JSON.readTree(p.requests().get(0).body()).get("schema").asText())
        .isEqualTo(SCHEMA.toString());

    // found ids are cached, misses are not
    assertThat(c.lookup("a-value", SCHEMA)).contains(31);
    assertThat(p.requests()).hasSize(3);
  }

  @Test
  void lookupPropagatesOtherErrors() throws IOException {
    ScriptedHttpPeer p = peer().then(401, error(40101, "Unauthorized"));

    SchemaRegistryException e =
        catchThrowableOfType(
            SchemaRegistryException.class, () -> client(p.url(), 3).lookup("a", SCHEMA));
    assertThat(e.status()).isEqualTo(401);
    assertThat(p.requests()).hasSize(1);
  }

  @Test
  void latestReadsVersionIdAndSchemaOrEmptyOn404() throws IOException {
    String latest =
        JSON.createObjectNode()
            .put("subject", "a-value")
            .put("version", 4)
            .put("id", 40)
            .put("schema", SCHEMA.toString())
            .toString();
    ScriptedHttpPeer p = peer().then(200, latest).then(404, error(40401, "Subject not found"));
    HttpSchemaRegistryClient c = client(p.url(), 0);

    SchemaRegistryClient.RegisteredSchema r = c.latest("a-value").orElseThrow();
    assertThat(r.subject()).isEqualTo("a-value");
    assertThat(r.version()).isEqualTo(4);
    assertThat(r.id()).isEqualTo(40);
    assertThat(r.schema()).isEqualTo(SCHEMA);
    assertThat(c.latest("b-value")).isEmpty();
    assertThat(p.requests().get(0).path()).isEqualTo("/subjects/a-value/versions/latest");

    // the schema of the latest version is now cached by id
    assertThat(c.schemaById(40)).isEqualTo(SCHEMA);
    assertThat(p.requests()).hasSize(2);
  }

  @Test
  void compatibilityReadsBothKeysAndIsEmptyOn404() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, "{\"compatibilityLevel\":\"FULL\"}")
            .then(200, "{\"compatibility\":\"FORWARD_TRANSITIVE\"}")
            .then(404, error(40408, "Subject does not have subject-level compatibility"))
            .then(200, "{}");
    HttpSchemaRegistryClient c = client(p.url(), 0);

    assertThat(c.compatibility("a-value")).contains("FULL");
    assertThat(c.compatibility("a-value")).contains("FORWARD_TRANSITIVE");
    assertThat(c.compatibility("a-value")).isEmpty();
    assertThat(c.compatibility("a-value")).isEmpty();
    assertThat(p.requests())
        .allSatisfy(
            r -> {
              assertThat(r.method()).isEqualTo("GET");
              assertThat(r.path()).isEqualTo("/config/a-value");
            });
  }

  @Test
  void setCompatibilityPutsTheLevel() throws IOException {
    ScriptedHttpPeer p = peer().then(200, "{\"compatibility\":\"BACKWARD\"}");

    client(p.url(), 0).setCompatibility("a-value", "BACKWARD");

    ScriptedHttpPeer.Request r = p.onlyRequest();
    assertThat(r.method()).isEqualTo("PUT");
    assertThat(r.path()).isEqualTo("/config/a-value");
    assertThat(r.header("Content-Type")).isEqualTo(CONTENT_TYPE);
    assertThat(JSON.readTree(r.body()))
        .isEqualTo(JSON.readTree("{\"compatibility\":\"BACKWARD\"}"));
  }

  @Test
  void isCompatibleReadsTheAnswerAndIsTrueWhenNothingIsRegistered() throws IOException {
    ScriptedHttpPeer p =
        peer()
            .then(200, "{\"is_compatible\":true}")
            .then(200, "{\"is_compatible\":false,\"messages\":[\"READER_FIELD_MISSING\"]}")
            .then(404, error(40401, "Subject 'new-value' not found."))
            .then(422, error(42201, "Invalid schema"));
    HttpSchemaRegistryClient c = client(p.url(), 0);

    assertThat(c.isCompatible("a-value", SCHEMA)).isTrue();
    assertThat(c.isCompatible("a-value", SCHEMA)).isFalse();
    assertThat(c.isCompatible("new-value", SCHEMA)).isTrue();
    assertThatThrownBy(() -> c.isCompatible("a-value", SCHEMA))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("Invalid schema");

    ScriptedHttpPeer.Request r = p.requests().get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.path()).isEqualTo("/compatibility/subjects/a-value/versions/latest");
    assertThat(JSON.readTree(r.body()).get("schema").asText()).isEqualTo(SCHEMA.toString());
  }
}
