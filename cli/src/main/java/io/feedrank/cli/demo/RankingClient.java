package io.feedrank.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.simulator.InteractionSimulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An app's feed client over real HTTP: at a steady rate, a simulated user asks {@code POST
 * /v1/rank} to order candidates, is shown the top k, and reacts (the simulator's ground truth); the
 * impressions go to {@code interactions} naming the request, which closes the loop (features,
 * training data, online CTR). Records every response's latency (client side), status, model version
 * and variant, and every transport error; counts an impression once the broker has it, and one it
 * could not send as not sent. A request the client itself fails on (its simulator or its producer
 * throws) is counted and named in {@code lastError}, and the client goes on with the next.
 */
final class RankingClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger log = LoggerFactory.getLogger(RankingClient.class);

  private final URI rank;
  private final InteractionSimulator sim;
  private final int candidates;
  private final int topK;
  private final double requestsPerSecond;
  private final SplittableRandom random;
  private final HttpClient http;
  private final KafkaProducer<Long, InteractionEvent> impressions;
  private final Stats stats = new Stats();
  private volatile boolean stop;
  private Thread thread;

  /** What the client saw; read with {@link #snapshot()}. */
  static final class Stats {
    final List<Long> latencyNanos = new ArrayList<>();
    long ok;
    long clientErrors;
    long serverErrors;
    long transportErrors;
    long fallbacks;

    /** Requests the client itself failed on: its simulator or its producer threw. */
    long clientFailures;

    long impressionsNotSent;
    String lastError;
    final Map<String, Long> byVersion = new LinkedHashMap<>();
    final Map<String, long[]> impressionsAndClicks = new LinkedHashMap<>();
    final List<String> swaps = new ArrayList<>();
    String lastVersion;
  }

  /** A copy of the counts and latencies so far. */
  record Snapshot(
      long requests,
      long ok,
      long clientErrors,
      long serverErrors,
      long transportErrors,
      long fallbacks,
      long clientFailures,
      long impressionsNotSent,
      String lastError,
      double[] latencyMillis,
      Map<String, Long> byVersion,
      Map<String, long[]> impressionsAndClicks,
      List<String> swaps) {
    double quantile(double q) {
      return DemoReport.quantile(latencyMillis, q);
    }

    /** Requests the ranker did not answer with a 200: 4xx, 5xx and transport errors. */
    long failedRequests() {
      return clientErrors + serverErrors + transportErrors;
    }
  }

  RankingClient(
      String baseUrl,
      InteractionSimulator sim,
      Map<String, Object> clientConfig,
      int candidates,
      int topK,
      double requestsPerSecond,
      long seed) {
    this.rank = URI.create(baseUrl + "/v1/rank");
    this.sim = sim;
    this.candidates = candidates;
    this.topK = topK;
    this.requestsPerSecond = requestsPerSecond;
    this.random = new SplittableRandom(seed);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    Map<String, Object> c = new HashMap<>(clientConfig);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    c.put(ProducerConfig.CLIENT_ID_CONFIG, "feedrank-demo-app");
    AvroSerializer<InteractionEvent> values = new AvroSerializer<>();
    values.configure(clientConfig, false);
    this.impressions = new KafkaProducer<>(c, new LongSerializer(), values);
  }

  synchronized void start() {
    if (thread != null) {
      return;
    }
    thread = new Thread(this::loop, "demo-ranking-client");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    long start = System.nanoTime();
    double gap = 1e9 / requestsPerSecond;
    for (long n = 0; !stop; n++) {
      long wait = start + (long) (n * gap) - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      if (!stop) {
        try {
          once();
        } catch (RuntimeException e) {
          // a bug in the simulator, or a record the producer refuses at once: out of this loop it
          // ended the client's thread, and the phases waiting on its traffic timed out naming
          // something else
          failed(e);
        }
      }
    }
  }

  private void failed(RuntimeException e) {
    boolean first;
    synchronized (stats) {
      first = stats.clientFailures++ == 0;
      stats.lastError = "the demo client failed: " + e;
    }
    if (first) {
      log.warn("demo: the feed client failed on a request; it goes on (logged once)", e);
    }
  }

  /** One feed request, its response and the user's reaction. */
  private void once() {
    InteractionSimulator.FeedRequest feed = sim.feedRequest(candidates, random);
    ObjectNode body = JSON.createObjectNode();
    body.put("user_id", feed.userId());
    com.fasterxml.jackson.databind.node.ArrayNode ids = body.putArray("item_ids");
    feed.candidates().forEach(ids::add);
    ObjectNode context = body.putObject("context");
    context.put("device", feed.device().name().toLowerCase(Locale.ROOT));
    context.put("timestamp", feed.eventTime().toString());
    body.put("top_k", topK);
    HttpRequest request =
        HttpRequest.newBuilder(rank)
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    long t0 = System.nanoTime();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      synchronized (stats) {
        stats.transportErrors++;
        stats.lastError = e.toString();
      }
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop = true;
      return;
    }
    long nanos = System.nanoTime() - t0;
    int status = response.statusCode();
    if (status != 200) {
      synchronized (stats) {
        if (status >= 500) {
          stats.serverErrors++;
        } else {
          stats.clientErrors++;
        }
        stats.lastError = status + " " + response.body();
      }
      return;
    }
    JsonNode r;
    try {
      r = JSON.readTree(response.body());
    } catch (IOException e) {
      synchronized (stats) {
        stats.transportErrors++;
        stats.lastError = "unreadable response: " + e.getMessage();
      }
      return;
    }
    String version = r.path("model_version").asText("none");
    String variant = r.path("variant").asText("?");
    String key = version + " (" + variant + ")";
    List<Long> shown = new ArrayList<>();
    for (JsonNode id : r.path("ranked_items")) {
      if (shown.size() < topK) {
        shown.add(id.asLong());
      }
    }
    synchronized (stats) {
      stats.ok++;
      stats.latencyNanos.add(nanos);
      stats.fallbacks += r.path("fallback").asBoolean(false) ? 1 : 0;
      stats.byVersion.merge(key, 1L, Long::sum);
      if (stats.lastVersion != null && !stats.lastVersion.equals(version)) {
        stats.swaps.add(stats.lastVersion + " -> " + version);
      }
      stats.lastVersion = version;
    }
    List<InteractionEvent> seen = sim.react(feed, shown, r.path("request_id").asText(), random);
    for (InteractionEvent e : seen) {
      boolean click = e.getClick();
      impressions.send(
          new ProducerRecord<>(
              Topics.INTERACTIONS, null, e.getEventTime().toEpochMilli(), e.getUserId(), e),
          (sent, error) -> impression(key, click, error));
    }
  }

  /**
   * Counts an impression of a response by {@code key} once the producer is done with it: shown (and
   * clicked) when the broker has it, else not sent. Unsent ones were counted as shown, and the
   * report's feed impressions and client-side CTR included what never reached {@code interactions}.
   */
  private void impression(String key, boolean click, Exception error) {
    synchronized (stats) {
      if (error == null) {
        long[] ic = stats.impressionsAndClicks.computeIfAbsent(key, k -> new long[2]);
        ic[0]++;
        ic[1] += click ? 1 : 0;
      } else {
        stats.impressionsNotSent++;
        stats.lastError = "an impression was not sent: " + error;
      }
    }
  }

  /** Successful responses so far. */
  long ok() {
    synchronized (stats) {
      return stats.ok;
    }
  }

  /** The version the last successful response named. */
  String lastVersion() {
    synchronized (stats) {
      return stats.lastVersion;
    }
  }

  Snapshot snapshot() {
    synchronized (stats) {
      double[] ms = new double[stats.latencyNanos.size()];
      for (int i = 0; i < ms.length; i++) {
        ms[i] = stats.latencyNanos.get(i) / 1e6;
      }
      Map<String, long[]> ic = new LinkedHashMap<>();
      stats.impressionsAndClicks.forEach((k, v) -> ic.put(k, v.clone()));
      return new Snapshot(
          stats.ok + stats.clientErrors + stats.serverErrors + stats.transportErrors,
          stats.ok,
          stats.clientErrors,
          stats.serverErrors,
          stats.transportErrors,
          stats.fallbacks,
          stats.clientFailures,
          stats.impressionsNotSent,
          stats.lastError,
          ms,
          new LinkedHashMap<>(stats.byVersion),
          ic,
          List.copyOf(stats.swaps));
    }
  }

  /** Stops sending; the impressions sent are settled (and counted) when this returns. */
  synchronized void stop() throws InterruptedException {
    stop = true;
    if (thread != null) {
      thread.join(Duration.ofSeconds(30).toMillis());
      thread = null;
    }
    impressions.flush();
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    impressions.close(Duration.ofSeconds(10));
  }
}
