package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.localstack.Ports;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The demo's feed client against a stand-in ranker on a real loopback socket, which answers each
 * {@code POST /v1/rank} as the test decides, with a real Kafka producer whose broker is a closed
 * port (every send gives up after {@code max.block.ms}).
 */
class RankingClientTest {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A response: its status and body. */
  record Answer(int status, String body) {}

  /** How the stand-in ranker answers request {@code n} (from 0) with these candidates. */
  interface Ranker {
    Answer answer(int n, List<Long> candidates);
  }

  final AtomicInteger requests = new AtomicInteger();
  volatile Ranker ranker;
  HttpServer server;

  @BeforeEach
  void startRanker() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/rank",
        exchange -> {
          List<Long> candidates = new ArrayList<>();
          JSON.readTree(exchange.getRequestBody())
              .path("item_ids")
              .forEach(id -> candidates.add(id.asLong()));
          Answer a = ranker.answer(requests.getAndIncrement(), candidates);
          byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(a.status(), body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  @AfterEach
  void stopRanker() {
    server.stop(0);
  }

  /** A 200 of model v1 (production) showing {@code shown}. */
  static Answer ranked(List<Long> shown) {
    ObjectNode r = JSON.createObjectNode();
    r.put("request_id", "r-" + System.nanoTime());
    r.put("model_version", "v1");
    r.put("variant", "production");
    r.put("fallback", false);
    shown.forEach(r.putArray("ranked_items")::add);
    return new Answer(200, r.toString());
  }

  /**
   * 50 requests/s of 20 candidates, the top 10 shown; impressions to a broker that is not there.
   */
  RankingClient client() throws IOException {
    int closed = Ports.freePort();
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + closed);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 100);
    config.put(RegistryConfig.URL, "http://127.0.0.1:" + closed);
    InteractionSimulator sim =
        new InteractionSimulator(
            SimulatorConfig.defaults(3, Instant.parse("2026-01-01T00:00:00Z"))
                .withPopulation(100, 200));
    return new RankingClient(
        "http://127.0.0.1:" + server.getAddress().getPort(), sim, config, 20, 10, 50, 7);
  }

  /**
   * The simulator throws on the first response, which shows an item its catalog lacks (a bug in the
   * client's own path): counted, named, and the next requests go on. Out of the loop it ended the
   * client's thread, with only a stack trace on the terminal.
   */
  @Test
  void aRequestTheClientFailsOnIsCountedAndNamedAndTheClientGoesOn() throws Exception {
    // after the first, nothing is shown: no impression, so nothing for the producer to fail on
    ranker = (n, candidates) -> ranked(n == 0 ? List.of(999_999L) : List.of());
    try (RankingClient c = client()) {
      c.start();
      Awaitility.await("responses after the failed one")
          .atMost(Duration.ofSeconds(20))
          .until(() -> c.ok() >= 5);
      c.stop();
      RankingClient.Snapshot s = c.snapshot();
      assertThat(s.clientFailures()).isEqualTo(1);
      assertThat(s.lastError())
          .contains("IllegalArgumentException", "item 999999 is not in the simulated catalog");
      // the ranker answered every request with a 200, the one the client failed on included
      assertThat(s.ok()).isEqualTo(requests.get());
      assertThat(s.failedRequests()).isZero();
    }
  }

  /**
   * Impressions the producer could not send are counted as not sent, not as shown: the report's
   * feed impressions and the client's CTR counted them before, though they never reached {@code
   * interactions}.
   */
  @Test
  void impressionsTheProducerCannotSendAreCountedAsNotSentNotAsShown() throws Exception {
    ranker = (n, candidates) -> ranked(candidates.subList(0, 10));
    try (RankingClient c = client()) {
      c.start();
      Awaitility.await("two responses").atMost(Duration.ofSeconds(60)).until(() -> c.ok() >= 2);
      c.stop(); // every send settled
      RankingClient.Snapshot s = c.snapshot();
      assertThat(s.impressionsAndClicks()).as("impressions shown, by version").isEmpty();
      assertThat(s.impressionsNotSent()).isEqualTo(10 * s.ok());
      assertThat(s.lastError()).contains("an impression was not sent", "TimeoutException");
      assertThat(s.clientFailures()).isZero();
    }
  }

  /**
   * The hot swap phase fails on a failed request after the retrain began (the promotion starts the
   * swap), naming it; one from before is not the swap's. Before, the phase reported the count of
   * the whole run and passed whatever it was.
   */
  @Test
  void aFailedRequestAfterTheRetrainBeganFailsTheHotSwapNamingIt() throws Exception {
    AtomicInteger failFrom = new AtomicInteger(-1); // none yet
    ranker =
        (n, candidates) ->
            n == 1 || n == failFrom.get()
                ? new Answer(n == 1 ? 503 : 500, "{\"error\":\"failure " + n + "\"}")
                : ranked(List.of());
    try (RankingClient c = client()) {
      c.start();
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> c.ok() >= 3);
      // the retrain begins: the 503 of request 1 came before it
      long before = c.snapshot().failedRequests();
      assertThat(before).isEqualTo(1);
      Demo.requireNoFailedRequests(before, c.snapshot());
      failFrom.set(requests.get() + 2);
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> c.snapshot().failedRequests() == 2);
      RankingClient.Snapshot s = c.snapshot();
      assertThatThrownBy(() -> Demo.requireNoFailedRequests(before, s))
          .hasMessageStartingWith("1 failed requests since the retrain began")
          .hasMessageContaining("500 {\"error\":\"failure " + failFrom.get() + "\"}");
    }
  }
}
