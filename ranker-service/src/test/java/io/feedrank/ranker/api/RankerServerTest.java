package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.models.Checksums;
import io.feedrank.ranker.RankResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP layer over a real socket, with a scripted backend. */
class RankerServerTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String KEY = "test-key-1";

  final AtomicReference<Throwable> failWith = new AtomicReference<>();
  final AtomicReference<Map<String, Boolean>> checks =
      new AtomicReference<>(Map.of("model_loaded", true, "redis_answered", false));
  final List<RankRequest> received = new CopyOnWriteArrayList<>();
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  RankerHttp server;
  RankerHttp.Backend backend;
  HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    ApiKeys keys =
        new ApiKeys(Map.of(Checksums.sha256(KEY.getBytes(StandardCharsets.UTF_8)), "tests"));
    backend =
        new RankerHttp.Backend() {
          @Override
          public RankResult rank(RankRequest r) {
            received.add(r);
            Throwable t = failWith.get();
            if (t instanceof RuntimeException e) {
              throw e;
            }
            if (t instanceof Error e) {
              throw e;
            }
            long[] ids = r.itemIds().clone();
            float[] scores = new float[ids.length];
            for (int i = 0; i < ids.length; i++) {
              scores[i] = 1f / (i + 2);
            }
            return new RankResult(
                r.requestId(), r.userId(), "m", "v1", "production", ids, scores, 1.25, null);
          }

          @Override
          public Map<String, Boolean> readiness() {
            return checks.get();
          }

          @Override
          public Map<String, Boolean> dependencies() {
            return Map.of("redis_reachable", false);
          }

          @Override
          public Map<String, Object> health() {
            return Map.of("status", "UP");
          }

          @Override
          public Map<String, Object> config() {
            return Map.of("model_name", "m");
          }

          @Override
          public String scrape() {
            return "# metrics\n";
          }
        };
    server =
        new VertxRankerServer(
                backend,
                new RankerHttp.Settings(
                    "127.0.0.1", 0, 2, 4096, keys, new TokenBuckets(0.001, 20, System::nanoTime)),
                metrics)
            .start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  HttpResponse<String> post(String path, String body, String key) throws Exception {
    return post(path, body, key, Map.of());
  }

  HttpResponse<String> post(String path, String body, String key, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (key != null) {
      b.header("X-API-Key", key);
    }
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void ranksOverHttpInTheDesignShape() throws Exception {
    HttpResponse<String> r =
        post(
            "/v1/rank",
            "{\"user_id\": 7, \"item_ids\": [3, 1, 2], \"top_k\": 2, \"request_id\": \"r-1\"}",
            KEY);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode j = JSON.readTree(r.body());
    assertThat(j.get("request_id").asText()).isEqualTo("r-1");
    assertThat(j.get("user_id").asLong()).isEqualTo(7);
    assertThat(j.get("model_version").asText()).isEqualTo("v1");
    assertThat(j.get("variant").asText()).isEqualTo("production");
    assertThat(j.get("predictions").get(0).get("item_id").asLong()).isEqualTo(3);
    assertThat(j.get("predictions").get(0).get("rank").asInt()).isEqualTo(1);
    assertThat(j.get("predictions").get(1).get("score").asDouble())
        .isEqualTo(1.0 / 3, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(j.get("ranked_items").toString()).isEqualTo("[3,1,2]");
    assertThat(j.get("fallback").asBoolean()).isFalse();
    assertThat(j.get("latency_ms").asDouble()).isEqualTo(1.25);
    assertThat(post("/predict", "{\"user_id\": 7, \"item_ids\": [3]}", KEY).statusCode())
        .isEqualTo(200);
  }

  @Test
  void badRequestsAre400WithTheFieldAndNoStackTrace() throws Exception {
    HttpResponse<String> r = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3, 3]}", KEY);
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode j = JSON.readTree(r.body());
    assertThat(j.get("error").asText()).isEqualTo("bad_request");
    assertThat(j.get("field").asText()).isEqualTo("item_ids[1]");
    assertThat(j.get("message").asText()).contains("duplicate id 3");
    HttpResponse<String> broken = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3", KEY);
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(broken.body()).get("field").asText()).isEqualTo("body");
    assertThat(broken.body()).doesNotContain("at com.").doesNotContain("Exception");
  }

  @Test
  void oversizedBodiesAre400() throws Exception {
    String big = "{\"user_id\": 7, \"item_ids\": [1], \"pad\": \"" + "x".repeat(5000) + "\"}";
    HttpResponse<String> r = post("/v1/rank", big, KEY);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).get("field").asText()).isEqualTo("body");
  }

  /** A body sent chunked has no Content-Length: it is read up to the limit, and refused past it. */
  @Test
  void chunkedBodiesAreReadAndLimitedToo() throws Exception {
    String ok = "{\"user_id\": 7, \"item_ids\": [3, 4]}";
    HttpResponse<String> r = postChunked(ok);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).get("ranked_items").size()).isEqualTo(2);
    String big = "{\"user_id\": 7, \"item_ids\": [1], \"pad\": \"" + "x".repeat(5000) + "\"}";
    HttpResponse<String> tooBig = postChunked(big);
    assertThat(tooBig.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(tooBig.body()).get("field").asText()).isEqualTo("body");
  }

  private HttpResponse<String> postChunked(String body) throws Exception {
    byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/rank"))
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(bytes)))
            .header("Content-Type", "application/json")
            .header("X-API-Key", KEY)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The head of a raw {@code POST /v1/rank} with the test's key and {@code headers}. */
  static String rankHead(String headers) {
    return "POST /v1/rank HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\n" + headers + "\r\n";
  }

  /**
   * A declared length over the limit is refused at the headers: the client never sends the body
   * here, so a server that waited for it would not answer at all.
   */
  @Test
  void aDeclaredLengthOverTheLimitIsRefusedBeforeTheBody() throws Exception {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(rankHead("Content-Type: application/json\r\nContent-Length: 100000000\r\n"));
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      JsonNode j = JSON.readTree(r.body());
      assertThat(j.get("field").asText()).isEqualTo("body");
      assertThat(j.get("message").asText()).isEqualTo("body is 100000000 bytes; at most 4096");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  /** A client that asks before sending is told no, and not invited to send its body. */
  @Test
  void anOversizedBodyAnnouncedWithExpectGetsNo100() throws Exception {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(rankHead("Expect: 100-continue\r\nContent-Length: 5000\r\n"));
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("field").asText()).isEqualTo("body");
    }
    String ok = "{\"user_id\": 7, \"item_ids\": [5]}";
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(rankHead("Expect: 100-continue\r\nContent-Length: " + ok.length() + "\r\n"));
      assertThat(raw.response().status()).isEqualTo(100);
      raw.send(ok);
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(200);
      assertThat(JSON.readTree(r.body()).get("ranked_items").toString()).isEqualTo("[5]");
    }
  }

  /**
   * A chunked body is refused at the chunk that passes the limit: the last chunk is never sent
   * here, so a server that read to the end before refusing would not answer.
   */
  @Test
  void aChunkedBodyIsRefusedAtTheChunkPastTheLimit() throws Exception {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(rankHead("Transfer-Encoding: chunked\r\n"));
      String chunk = "x".repeat(3000);
      raw.send("bb8\r\n" + chunk + "\r\n");
      raw.send("bb8\r\n" + chunk + "\r\n");
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(400);
      JsonNode j = JSON.readTree(r.body());
      assertThat(j.get("field").asText()).isEqualTo("body");
      assertThat(j.get("message").asText()).isEqualTo("body is over 4096 bytes");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  /** curl sends {@code Expect: 100-continue} before larger bodies and waits for the 100. */
  @Test
  void aClientExpecting100ContinueGetsItsAnswer() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/rank"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\": 7, \"item_ids\": [5, 6]}"))
                .expectContinue(true)
                .timeout(java.time.Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header("X-API-Key", KEY)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).get("ranked_items").toString()).isEqualTo("[5,6]");
  }

  @Test
  void theSyntheticHeaderMarksTheRequestAndABadValueIs400NamingIt() throws Exception {
    String body = "{\"user_id\": 7, \"item_ids\": [3]}";
    String header = "X-Feedrank-Synthetic";
    assertThat(post("/v1/rank", body, KEY).statusCode()).isEqualTo(200);
    assertThat(post("/v1/rank", body, KEY, Map.of(header, "true")).statusCode()).isEqualTo(200);
    assertThat(post("/predict", body, KEY, Map.of(header, "TRUE")).statusCode()).isEqualTo(200);
    assertThat(post("/v1/rank", body, KEY, Map.of(header, "false")).statusCode()).isEqualTo(200);
    assertThat(received)
        .extracting(RankRequest::synthetic)
        .containsExactly(false, true, true, false);
    assertThat(received.get(1).userId()).isEqualTo(7);
    assertThat(received.get(1).itemIds()).containsExactly(3);

    HttpResponse<String> r = post("/v1/rank", body, KEY, Map.of(header, "yes"));
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode j = JSON.readTree(r.body());
    assertThat(j.get("field").asText()).isEqualTo(header);
    assertThat(j.get("message").asText()).isEqualTo(header + " must be true or false");
    assertThat(received).hasSize(4);
  }

  @Test
  void withoutAValidKeyIs401() throws Exception {
    assertThat(post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", null).statusCode())
        .isEqualTo(401);
    HttpResponse<String> r = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", "wrong");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("unauthorized");
    assertThat(get("/v1/config").statusCode()).isEqualTo(401);
  }

  /**
   * Every 401 carries the challenge HTTP requires: a client with an {@code Authenticator} (the
   * JDK's) gets the 401 instead of an IOException "WWW-Authenticate header missing".
   */
  @Test
  void a401SaysHowToAuthenticate() throws Exception {
    HttpClient withAuthenticator =
        HttpClient.newBuilder()
            .authenticator(
                new java.net.Authenticator() {
                  @Override
                  protected java.net.PasswordAuthentication getPasswordAuthentication() {
                    return new java.net.PasswordAuthentication("user", "secret".toCharArray());
                  }
                })
            .build();
    String base = "http://127.0.0.1:" + server.port();
    List<HttpRequest> refused =
        List.of(
            HttpRequest.newBuilder(URI.create(base + "/v1/rank"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\": 7, \"item_ids\": [3]}"))
                .header("X-API-Key", "wrong")
                .build(),
            HttpRequest.newBuilder(URI.create(base + "/v1/config")).build());
    for (HttpRequest request : refused) {
      HttpResponse<String> r =
          withAuthenticator.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(request.uri().getPath()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate"))
          .as(request.uri().getPath())
          .contains("ApiKey header=\"X-API-Key\"");
    }
    assertThat(received).isEmpty();
  }

  /**
   * A client without a valid key is answered at its headers and its connection closed: its body is
   * never sent here, so a server that read the body before the key would not answer, and would hold
   * room for the declared length meanwhile.
   */
  @Test
  void withoutAKeyTheAnswerComesBeforeTheBodyAndTheConnectionCloses() throws Exception {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(
          "POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Content-Length: 4000\r\n\r\n{\"user_id\"");
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(401);
      assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("unauthorized");
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      // the rest of the body is taken (closed under it, the connection would be reset), then the
      // connection is closed
      assertThat(raw.openFor(300)).as("open while the body is still to come").isTrue();
      raw.send("x".repeat(4000 - "{\"user_id\"".length()));
      assertThat(raw.closedByServer()).isTrue();
    }
    // a client that does not finish its body is closed after the deadline (each byte it trickled
    // would otherwise reset the 30 s idle timeout)
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send("POST /v1/rank HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n{");
      assertThat(raw.response().status()).isEqualTo(401);
      assertThat(raw.closedByServer()).as("closed within 10 s").isTrue();
    }
    // nor is a client that asks for a 100 first invited to send its body
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(
          "POST /v1/rank HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong\r\nExpect: 100-continue\r\n"
              + "Content-Length: 40\r\n\r\n");
      assertThat(raw.response().status()).isEqualTo(401);
    }
    assertThat(received).isEmpty();
  }

  /**
   * A client sending a large body with a wrong key reads its 401 every time. Closed as soon as the
   * 401 was written, the connection was reset under the body still arriving, and a few percent of
   * such clients saw a transport error instead of the answer.
   */
  @Test
  void aWrongKeyWithALargeBodyIsAlwaysAnswered401() throws Exception {
    try (RankerHttp big =
        new VertxRankerServer(
                backend,
                new RankerHttp.Settings(
                    "127.0.0.1",
                    0,
                    2,
                    1 << 20,
                    new ApiKeys(
                        Map.of(Checksums.sha256(KEY.getBytes(StandardCharsets.UTF_8)), "tests")),
                    null),
                new SimpleMeterRegistry())
            .start()) {
      String body = "{\"user_id\": 7, \"item_ids\": [3], \"pad\": \"" + "x".repeat(200_000) + "\"}";
      List<String> failures = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + big.port() + "/v1/rank"))
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .header("X-API-Key", "wrong")
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 401) {
            failures.add("status " + r.statusCode());
          }
        } catch (java.io.IOException e) {
          failures.add(e.toString());
        }
      }
      assertThat(failures).isEmpty();
    }
  }

  /**
   * A client sending a body far over the limit reads its {@code 400} every time, whether the body's
   * length is declared (refused at the headers) or it is chunked (refused at the chunk past the
   * limit). Closed as soon as the 400 was written, the connection was reset under the body still
   * arriving, and the client could see a transport error instead of the answer.
   */
  @Test
  void aBodyFarOverTheLimitIsAlwaysAnswered400() throws Exception {
    try (RankerHttp unlimited =
        new VertxRankerServer(
                backend,
                new RankerHttp.Settings(
                    "127.0.0.1",
                    0,
                    2,
                    4096,
                    new ApiKeys(
                        Map.of(Checksums.sha256(KEY.getBytes(StandardCharsets.UTF_8)), "tests")),
                    null),
                new SimpleMeterRegistry())
            .start()) {
      byte[] body =
          ("{\"user_id\": 7, \"item_ids\": [3], \"pad\": \"" + "x".repeat(200_000) + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      URI rank = URI.create("http://127.0.0.1:" + unlimited.port() + "/v1/rank");
      Map<String, HttpRequest.BodyPublisher> publishers =
          Map.of(
              "declared", HttpRequest.BodyPublishers.ofByteArray(body),
              "chunked",
                  HttpRequest.BodyPublishers.ofInputStream(
                      () -> new java.io.ByteArrayInputStream(body)));
      List<String> failures = new ArrayList<>();
      for (var p : publishers.entrySet()) {
        for (int i = 0; i < 100; i++) {
          try {
            HttpResponse<String> r =
                http.send(
                    HttpRequest.newBuilder(rank)
                        .POST(p.getValue())
                        .header("Content-Type", "application/json")
                        .header("X-API-Key", KEY)
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 400
                || !JSON.readTree(r.body()).get("field").asText().equals("body")) {
              failures.add(p.getKey() + ": " + r.statusCode() + " " + r.body());
            }
          } catch (java.io.IOException e) {
            failures.add(p.getKey() + ": " + e);
          }
        }
      }
      assertThat(failures).isEmpty();
    }
    assertThat(received).isEmpty();
  }

  /**
   * Past its limit, a client is answered {@code 429} at its headers; the body it then sends is
   * discarded, and the same connection serves its next request.
   */
  @Test
  void pastTheLimitTheAnswerComesBeforeTheBodyAndTheConnectionServesTheNextRequest()
      throws Exception {
    String body = "{\"user_id\": 7, \"item_ids\": [3]}";
    for (int i = 0; i < 20; i++) { // the burst
      assertThat(post("/v1/rank", body, KEY).statusCode()).isEqualTo(200);
    }
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(rankHead("Content-Length: " + body.length() + "\r\n") + body.substring(0, 10));
      RawHttp.Response first = raw.response();
      assertThat(first.status()).isEqualTo(429);
      assertThat(first.header("retry-after")).isNotNull();
      raw.send(body.substring(10));
      raw.send(rankHead("Content-Length: " + body.length() + "\r\n") + body);
      assertThat(raw.response().status()).isEqualTo(429);
      assertThat(raw.openFor(300)).as("the connection kept").isTrue();
    }
    assertThat(received).hasSize(20);
  }

  /** Reading the configuration needs a key but takes no token of the client's ranking limit. */
  @Test
  void theConfigurationTakesNoTokenOfTheRankingLimit() throws Exception {
    for (int i = 0; i < 30; i++) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/config"))
                  .header("X-API-Key", KEY)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
    for (int i = 0; i < 20; i++) { // the whole burst is still there
      assertThat(post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", KEY).statusCode())
          .isEqualTo(200);
    }
  }

  /**
   * With a management port, the ops endpoints answer there only (no key, as on the service's port)
   * and are not found on the service's port, which keeps ranking and {@code /v1/config}: a Service
   * that exposes only the service's port exposes no metrics or health details.
   */
  @Test
  void withAManagementPortTheOpsEndpointsAnswerThereAndNotOnTheServicesPort() throws Exception {
    ApiKeys keys =
        new ApiKeys(Map.of(Checksums.sha256(KEY.getBytes(StandardCharsets.UTF_8)), "tests"));
    try (RankerHttp split =
        new VertxRankerServer(
                backend,
                new RankerHttp.Settings(
                    "127.0.0.1",
                    0,
                    2,
                    4096,
                    keys,
                    new TokenBuckets(1000, 1000, System::nanoTime),
                    null,
                    RequestParser.DEFAULT_MAX_AHEAD_MILLIS,
                    0),
                new SimpleMeterRegistry())
            .start()) {
      assertThat(split.managementPort()).isPositive().isNotEqualTo(split.port());
      for (String path : List.of("/health/live", "/health/ready", "/health", "/metrics")) {
        assertThat(status(split.managementPort(), path, null)).as(path).isIn(200, 503);
        assertThat(status(split.port(), path, null))
            .as(path + " on the service's port")
            .isEqualTo(404);
      }
      assertThat(status(split.managementPort(), "/v1/config", KEY)).isEqualTo(404);
      assertThat(status(split.port(), "/v1/config", KEY)).isEqualTo(200);
      HttpResponse<String> rank =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + split.port() + "/v1/rank"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\": 7, \"item_ids\": [3]}"))
                  .header("X-API-Key", KEY)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(rank.statusCode()).isEqualTo(200);
      HttpResponse<String> rankOnManagement =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + split.managementPort() + "/v1/rank"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"user_id\": 7, \"item_ids\": [3]}"))
                  .header("X-API-Key", KEY)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(rankOnManagement.statusCode()).isEqualTo(404);
    }
    assertThat(server.managementPort()).isEqualTo(server.port()); // without one: the same port
  }

  /** A method an endpoint does not take is a JSON 405 naming the one it does. */
  @Test
  void aWrongMethodIsA405WithTheAllowedOne() throws Exception {
    HttpResponse<String> get = get("/v1/rank");
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    assertThat(JSON.readTree(get.body()).get("error").asText()).isEqualTo("method_not_allowed");
    for (String path :
        List.of("/health", "/health/live", "/health/ready", "/metrics", "/v1/config")) {
      HttpResponse<String> post = post(path, "{}", KEY);
      assertThat(post.statusCode()).as(path).isEqualTo(405);
      assertThat(post.headers().firstValue("Allow")).as(path).contains("GET, HEAD");
    }
  }

  /**
   * HEAD is answered wherever GET is, as HTTP asks: the GET's status and headers, no body (the next
   * response on the connection would not parse after one).
   */
  @Test
  void headIsAnsweredLikeGetWithoutABody() throws Exception {
    checks.set(Map.of("model_loaded", true, "redis_answered", true));
    try (RawHttp raw = new RawHttp(server.port())) {
      for (String path :
          List.of("/health/live", "/health/ready", "/health", "/metrics", "/v1/config")) {
        raw.send("HEAD " + path + " HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\n\r\n");
        RawHttp.Response head = raw.response();
        assertThat(head.status()).as(path).isEqualTo(200);
        assertThat(head.body()).as(path).isEmpty();
        raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\n\r\n");
        RawHttp.Response get = raw.response();
        assertThat(get.status()).as(path).isEqualTo(200);
        assertThat(head.header("Content-Type")).as(path).isEqualTo(get.header("Content-Type"));
        assertThat(get.body()).as(path).isNotEmpty();
      }
    }
    HttpResponse<String> head =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health/live"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  /**
   * A 404 or 405 with a body is answered with {@code Connection: close}, the body discarded up to a
   * bound and a deadline, then the connection closed; without a body the connection is kept.
   */
  @Test
  void aBodySentToAWrongPathOrMethodIsDiscardedWithinBoundsThenClosed() throws Exception {
    // chunked past the bound of what is discarded (4 MiB here): closed under it
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send("PUT /v1/rank HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      String chunk = "10000\r\n" + "x".repeat(0x10000) + "\r\n";
      raw.send(chunk);
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(405);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      assertThat(raw.openFor(300)).as("open while the body is still to come").isTrue();
      try {
        for (int sent = 1; sent <= 80; sent++) { // 5 MiB in all
          raw.send(chunk);
        }
      } catch (java.io.IOException closedUnderIt) {
        // the server closed the connection while this was still sending
      }
      assertThat(raw.closedByServer()).as("closed past the bound").isTrue();
    }
    // a body that does not end: closed after the deadline (5 s; the read waits up to 10 s)
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send("POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      assertThat(raw.closedByServer()).as("closed after the deadline").isTrue();
    }
    // no body: the connection serves the next request
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response r = raw.response();
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.header("connection")).isNull();
      raw.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response().status()).isEqualTo(200);
    }
  }

  /** A 415 naming {@code Content-Type}, its message the type and {@code why}. */
  static void assertRefusedType(HttpResponse<String> r, String type, String why) throws Exception {
    assertThat(r.statusCode()).as(type).isEqualTo(415);
    JsonNode json = JSON.readTree(r.body());
    assertThat(json.get("error").asText()).as(type).isEqualTo("unsupported_media_type");
    assertThat(json.get("field").asText()).as(type).isEqualTo("Content-Type");
    assertThat(json.get("message").asText()).as(type).isEqualTo("Content-Type is " + type + why);
  }

  /**
   * A body declared as something other than JSON (a form, as curl's {@code -d} sends without a
   * type; text; XML) is a 415 naming the header, not parsed and not ranked. JSON with parameters, a
   * {@code +json} type, any case, and no type at all are ranked.
   */
  @Test
  void aBodyWhoseTypeIsNotJsonIsA415NamingTheHeader() throws Exception {
    String body = "{\"user_id\": 7, \"item_ids\": [3]}";
    for (String type :
        List.of("application/x-www-form-urlencoded", "text/plain", "application/xml", "json")) {
      assertRefusedType(postTyped(body, type), type, "; the body must be application/json");
    }
    assertThat(received).isEmpty();
    assertThat(requests("/v1/rank", "415")).isEqualTo(4);
    for (String type :
        Arrays.asList(
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.x+json",
            null)) {
      assertThat(postTyped(body, type).statusCode()).as(String.valueOf(type)).isEqualTo(200);
    }
    assertThat(received).hasSize(4);
  }

  /**
   * JSON said to be in a charset it cannot be read in is a 415 naming {@code Content-Type}, not
   * misread; UTF-8, and UTF-16 (which the parser tells from the bytes), are ranked.
   */
  @Test
  void aCharsetOtherThanUtfIsA415NamingContentType() throws Exception {
    String body = "{\"user_id\": 7, \"item_ids\": [3]}";
    for (String type :
        List.of(
            "application/json; charset=iso-8859-1", "application/json;charset=\"windows-1252\"")) {
      assertRefusedType(
          postTyped(body, type), type, "; the body must be in UTF-8, UTF-16 or UTF-32");
    }
    assertThat(received).isEmpty();
    assertThat(postTyped(body, "application/json; charset=UTF-8").statusCode()).isEqualTo(200);
    HttpResponse<String> utf16 =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/rank"))
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(body.getBytes(StandardCharsets.UTF_16)))
                .header("Content-Type", "application/json; charset=utf-16")
                .header("X-API-Key", KEY)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(utf16.statusCode()).isEqualTo(200);
    assertThat(received).extracting(RankRequest::userId).containsExactly(7L, 7L);
  }

  /**
   * A body in a content coding (gzip) is a 415 naming {@code Content-Encoding}, answered at the
   * headers, with the coding it takes; the body is discarded and the connection closed once it has
   * arrived. {@code identity} is ranked.
   */
  @Test
  void anEncodedBodyIsA415NamingContentEncodingAtItsHeaders() throws Exception {
    String body = "{\"user_id\": 7, \"item_ids\": [3]}";
    java.io.ByteArrayOutputStream gzipped = new java.io.ByteArrayOutputStream();
    try (var gzip = new java.util.zip.GZIPOutputStream(gzipped)) {
      gzip.write(body.getBytes(StandardCharsets.UTF_8));
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/rank"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(gzipped.toByteArray()))
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip")
                .header("X-API-Key", KEY)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(r.headers().firstValue("Accept-Encoding")).contains("identity");
    JsonNode json = JSON.readTree(r.body());
    assertThat(json.get("error").asText()).isEqualTo("unsupported_media_type");
    assertThat(json.get("field").asText()).isEqualTo("Content-Encoding");
    assertThat(json.get("message").asText())
        .isEqualTo("Content-Encoding is gzip; the body must not be encoded");
    // answered before the body, which is then taken and the connection closed
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.send(
          rankHead("Content-Encoding: br\r\nContent-Length: " + body.length() + "\r\n")
              + body.substring(0, 5));
      RawHttp.Response refused = raw.response();
      assertThat(refused.status()).isEqualTo(415);
      assertThat(refused.header("connection")).isEqualToIgnoringCase("close");
      assertThat(raw.openFor(300)).as("open while the body is still to come").isTrue();
      raw.send(body.substring(5));
      assertThat(raw.closedByServer()).isTrue();
    }
    assertThat(received).isEmpty();
    assertThat(post("/v1/rank", body, KEY, Map.of("Content-Encoding", "identity")).statusCode())
        .isEqualTo(200);
    assertThat(received).hasSize(1);
  }

  private HttpResponse<String> postTyped(String body, String type) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/rank"))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("X-API-Key", KEY);
    if (type != null) {
      b.header("Content-Type", type);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A request HTTP cannot frame is answered as JSON too, with the status HTTP has for it, and its
   * connection closed: a request line over 4096 bytes, headers over 8192, a request line that is
   * not one.
   */
  @Test
  void undecodableRequestsAreAnsweredAsJsonAndTheirConnectionClosed() throws Exception {
    String longUri = "/v1/rank?q=" + "x".repeat(5_000);
    String bigHeaders = "X-Filler: " + "y".repeat(9_000) + "\r\n";
    Map<String, String> requests =
        Map.of(
            "GET " + longUri + " HTTP/1.1\r\nHost: x\r\n\r\n",
            "414 uri_too_long uri",
            "GET /health HTTP/1.1\r\nHost: x\r\n" + bigHeaders + "\r\n",
            "431 headers_too_large headers",
            "NOT AN HTTP REQUEST LINE AT ALL\r\n\r\n",
            "400 bad_request -");
    for (var e : requests.entrySet()) {
      String[] expected = e.getValue().split(" ");
      try (RawHttp raw = new RawHttp(server.port())) {
        raw.send(e.getKey());
        RawHttp.Response r = raw.response();
        String what = e.getKey().substring(0, 20);
        assertThat(r.status()).as(what).isEqualTo(Integer.parseInt(expected[0]));
        assertThat(r.header("Content-Type")).as(what).isEqualTo("application/json");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("error").asText()).as(what).isEqualTo(expected[1]);
        if (expected[2].equals("-")) {
          assertThat(body.has("field")).as(what).isFalse();
        } else {
          assertThat(body.get("field").asText()).as(what).isEqualTo(expected[2]);
          assertThat(body.get("message").asText()).as(what).startsWith(expected[2] + ": ");
        }
        assertThat(raw.closedByServer()).as(what).isTrue();
      }
    }
  }

  int status(int port, String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void pastTheRateLimitIs429WithRetryAfter() throws Exception {
    int ok = 0;
    HttpResponse<String> last = null;
    for (int i = 0; i < 25; i++) {
      last = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", KEY);
      if (last.statusCode() == 200) {
        ok++;
      }
    }
    assertThat(ok).isEqualTo(20); // the burst; the refill rate is negligible
    assertThat(last.statusCode()).isEqualTo(429);
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
    assertThat(requests("/v1/rank", "200")).isEqualTo(20);
    assertThat(requests("/v1/rank", "429")).isEqualTo(5);
    // the refusals are counted above, not timed: fast 429s would pull the latency p99 down
    assertThat(metrics.get("ranker.request.latency").tag("endpoint", "/v1/rank").timer().count())
        .isEqualTo(20);
  }

  private double requests(String endpoint, String status) {
    return metrics
        .get("ranker.requests")
        .tag("endpoint", endpoint)
        .tag("status", status)
        .counter()
        .count();
  }

  @Test
  void aBackendFailureIsA500WithoutDetails() throws Exception {
    failWith.set(new IllegalStateException("secret internals at line 42"));
    HttpResponse<String> r = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", KEY);
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain("secret").doesNotContain("IllegalStateException");
  }

  /** An Error gets an answer too (the client used to wait for the idle timeout), counted as 500. */
  @Test
  void anErrorInTheBackendIsA500WithoutDetails() throws Exception {
    failWith.set(new ExceptionInInitializerError("secret initializer"));
    HttpResponse<String> r = post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", KEY);
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain("secret").doesNotContain("Error");
    assertThat(requests("/v1/rank", "500")).isEqualTo(1);
    failWith.set(null);
    assertThat(post("/v1/rank", "{\"user_id\": 7, \"item_ids\": [3]}", KEY).statusCode())
        .isEqualTo(200);
  }

  /**
   * The counters alert rules rate are exported at 0 before the first request (Prometheus's
   * increase() starts from a series' first sample: a counter first seen at 1 hides that request).
   */
  @Test
  void theRankEndpointsCountersStartAtZero() {
    for (String endpoint : new String[] {"/v1/rank", "/predict"}) {
      for (String status : new String[] {"200", "400", "401", "429", "500", "503"}) {
        assertThat(requests(endpoint, status)).as("%s %s", endpoint, status).isZero();
      }
    }
  }

  @Test
  void opsEndpointsAnswer() throws Exception {
    assertThat(get("/health/live").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503); // redis_answered is false
    assertThat(JSON.readTree(ready.body()).get("checks").get("redis_answered").asBoolean())
        .isFalse();
    // every check passes: ready, though a dependency it degrades around does not answer now
    checks.set(Map.of("model_loaded", true, "redis_answered", true));
    ready = get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(ready.body());
    assertThat(body.get("status").asText()).isEqualTo("UP");
    assertThat(body.get("dependencies").get("redis_reachable").asBoolean()).isFalse();
    assertThat(get("/health").statusCode()).isEqualTo(200);
    assertThat(get("/metrics").body()).startsWith("# metrics");
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(missing.body()).get("error").asText()).isEqualTo("not_found");
  }
}
