package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.Device;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RankingLog;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.RedisCluster;
import io.feedrank.localstack.TcpGate;
import io.feedrank.models.Checksums;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.UnifiedJedis;

/** The ranker on the real local stack: real Redis, real Kafka registry topic, real ONNX Runtime. */
@LocalStackTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RankerIT {
  static final int USERS = 300;
  static final int ITEMS = 2_000;

  FeatureFixture fixture;

  @BeforeAll
  void writeFeatures(LocalStack stack) {
    fixture = new FeatureFixture(11, USERS, ITEMS, 40_000);
    fixture.writeTo(stack.redisUri());
  }

  long[] someItems(Random r, int n) {
    List<Long> known = new ArrayList<>(fixture.items.keySet());
    Set<Long> ids = new HashSet<>();
    while (ids.size() < n - 1) {
      ids.add(known.get(r.nextInt(known.size())));
    }
    ids.add(9_999_999L); // an unknown item: default features
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  @Test
  void theFeaturesInRedisAreTheOnesScoredAndTheRankingFollowsTheScores(LocalStack stack)
      throws Exception {
    RankerHarness h = new RankerHarness(stack);
    TestModels.Mlp model = TestModels.mlp(21);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", model.onnx());
    try (RankerApp app = Main.start(h.config())) {
      awaitServing(app, "v1");
      assertScoresAreTheFixtures(h, app, model, 5);
      // the JIT's work, which the ranker benchmark waits on before it measures
      assertThat(app.metrics().scrape())
          .containsPattern("(?m)^jvm_compilation_time_ms_total\\{[^}]*\\} [1-9]");
    }
  }

  /**
   * The same against a real three-master Redis Cluster ({@code redis-cluster://}): one request's
   * pipelined reads span every node, and the scores must still be those of the fixture's features.
   */
  @Test
  void againstARedisClusterTheSameFeaturesAreScored(LocalStack stack, @TempDir Path dir)
      throws Exception {
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60))) {
      fixture.writeTo(cluster.uri());
      assertThat(cluster.keysPerNode()).allSatisfy(n -> assertThat(n).isGreaterThan(100L));
      RankerHarness h = new RankerHarness(stack);
      TestModels.Mlp model = TestModels.mlp(23);
      h.publish("v1", ModelStage.PRODUCTION, "mlp", model.onnx());
      Map<String, String> config = h.config();
      config.put("redis.uri", cluster.uri());
      config.put("redis.timeout.ms", "2000");
      try (RankerApp app = Main.start(config)) {
        awaitServing(app, "v1");
        assertScoresAreTheFixtures(h, app, model, 3);
        HttpResponse<String> ready =
            h.http.send(
                java.net.http.HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + app.port() + "/health/ready"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      }
    }
  }

  /**
   * DESIGN §3: the features of the user and of every candidate come from Redis in one round trip. A
   * forwarder in front of the real Redis counts the ranker's turns (each time it writes after Redis
   * has answered it): a request whose user and 50 candidates are all uncached takes one, where a
   * read per key would take 51 and the user apart from the items two. Three requests, each of its
   * own user and items; a pool's idle-connection check landing in one could add a turn to it.
   */
  @Test
  void aRequestReadsItsUserAndEveryCandidateInOneRedisRoundTrip(LocalStack stack) throws Exception {
    URI redis = URI.create(stack.redisUri());
    try (TcpGate gate = new TcpGate(redis.getHost(), redis.getPort())) {
      RankerHarness h = new RankerHarness(stack);
      h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(29).onnx());
      Map<String, String> config = h.config();
      config.put("redis.uri", "redis://127.0.0.1:" + gate.port());
      // nothing cached turns stale while measured, so no background refresh reads meanwhile
      config.put("cache.user.fresh.ttl.ms", "600000");
      config.put("cache.item.fresh.ttl.ms", "600000");
      config.put("cache.max.serve.ms", "600000");
      try (RankerApp app = Main.start(config)) {
        awaitServing(app, "v1");
        List<Long> users = new ArrayList<>(fixture.users.keySet());
        List<Long> items = new ArrayList<>(fixture.items.keySet());
        Instant at = fixture.end.plusSeconds(90);
        List<Integer> turns = new ArrayList<>();
        for (int q = 0; q < 4; q++) {
          long[] candidates = new long[50];
          for (int i = 0; i < candidates.length; i++) {
            candidates[i] = items.get(q * candidates.length + i);
          }
          int before = gate.turns();
          HttpResponse<String> resp =
              h.rank(
                  app.port(), RankerHarness.body(users.get(q), candidates, at, "mobile", "t" + q));
          assertThat(resp.statusCode()).isEqualTo(200);
          assertThat(RankerHarness.json(resp).get("fallback").asBoolean()).isFalse();
          if (q > 0) {
            // the first request's connection to Redis was new: its handshake has turns of its own
            turns.add(gate.turns() - before);
          }
        }
        assertThat(turns)
            .as("Redis round trips per request")
            .allSatisfy(t -> assertThat(t).isBetween(1, 2));
        assertThat(Collections.min(turns)).as("Redis round trips per request").isEqualTo(1);
      }
    }
  }

  /** {@code queries} rankings, the last for an unknown user, checked against ONNX Runtime. */
  void assertScoresAreTheFixtures(RankerHarness h, RankerApp app, TestModels.Mlp model, int queries)
      throws Exception {
    Random r = new Random(5);
    Instant at = fixture.end.plusSeconds(90);
    for (int q = 0; q < queries; q++) {
      long user =
          q == queries - 1
              ? 8_888_888L
              : new ArrayList<>(fixture.users.keySet()).get(r.nextInt(fixture.users.size()));
      long[] items = someItems(r, 60);
      HttpResponse<String> resp =
          h.rank(app.port(), RankerHarness.body(user, items, at, "desktop", "q" + q));
      assertThat(resp.statusCode()).isEqualTo(200);
      JsonNode j = RankerHarness.json(resp);
      assertThat(j.get("model_version").asText()).isEqualTo("v1");
      assertThat(j.get("fallback").asBoolean()).isFalse();

      // the expected scores: ONNX Runtime evaluated directly on rows built from the in-memory
      // state the hashes were written from
      double[] expected =
          model.scoreDirect(fixture, user, items, at.toEpochMilli(), Device.DESKTOP);
      Map<Long, Double> byItem = new HashMap<>();
      for (int i = 0; i < items.length; i++) {
        byItem.put(items[i], expected[i]);
      }
      JsonNode preds = j.get("predictions");
      assertThat(preds).hasSize(items.length);
      double previous = Double.POSITIVE_INFINITY;
      for (int k = 0; k < preds.size(); k++) {
        JsonNode p = preds.get(k);
        double want = byItem.get(p.get("item_id").asLong());
        assertThat(p.get("score").asDouble()).isCloseTo(want, within(1e-6));
        assertThat(p.get("rank").asInt()).isEqualTo(k + 1);
        assertThat(want).isLessThanOrEqualTo(previous + 1e-7);
        previous = want;
      }
    }
  }

  /**
   * A key of another type than a hash ({@code WRONGTYPE}) is one item's unreadable features: the
   * item is scored with default features (as an unknown one, {@code bad_features}), the others with
   * theirs, and Redis is not counted as failing (it answered): before, one such key failed the
   * whole read of every request naming it, and fed the circuit breaker.
   */
  @Test
  void aKeyThatIsNotAHashIsOneItemsBadFeaturesNotARedisFailure(LocalStack stack) throws Exception {
    RankerHarness h = new RankerHarness(stack);
    TestModels.Mlp model = TestModels.mlp(31);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", model.onnx());
    long odd = 7_777_777L;
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(5))) {
      redis.set(RedisConnections.itemKey(odd), "not a hash");
      try (RankerApp app = Main.start(h.config())) {
        awaitServing(app, "v1");
        Random r = new Random(3);
        long user = new ArrayList<>(fixture.users.keySet()).get(0);
        Instant at = fixture.end.plusSeconds(30);
        for (int q = 0; q < 12; q++) {
          long[] items = someItems(r, 20);
          items[0] = odd;
          HttpResponse<String> resp =
              h.rank(app.port(), RankerHarness.body(user, items, at, "mobile", "odd-" + q));
          assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
          JsonNode j = RankerHarness.json(resp);
          assertThat(j.get("model_version").asText()).isEqualTo("v1");
          assertThat(j.get("fallback_reason").asText()).isEqualTo("bad_features");
          // the fixture has no features for the odd item: evaluated as an unknown one
          double[] want = model.scoreDirect(fixture, user, items, at.toEpochMilli(), Device.MOBILE);
          for (JsonNode p : j.get("predictions")) {
            long id = p.get("item_id").asLong();
            int i = 0;
            while (items[i] != id) {
              i++;
            }
            assertThat(p.get("score").asDouble())
                .as("item %d", id)
                .isCloseTo(want[i], within(1e-6));
          }
        }
        assertThat(app.metrics().get("ranker.redis.failures").counter().count()).isZero();
      } finally {
        redis.del(RedisConnections.itemKey(odd));
      }
    }
  }

  /**
   * Hashes whose counters no event can have written (a manual edit, another writer, a damaged
   * restore), each copied from a real one with one field changed: a user's 7-day clicks at -1, a
   * user's 7-day clicks 1,000 above their impressions (the prior of every category click rate then
   * above 1), an item's 7-day clicks at -1. Each is its entity's unreadable features: scored with
   * default features, as an unknown one, and the response says {@code bad_features}. The parse took
   * them, and computing their features threw: the first user's before the model's call, the second
   * user's cross features and the item's inside it and again in the popularity fallback; all 500.
   */
  @Test
  void countersNoEventCanHaveWrittenAreBadFeaturesNotA500(LocalStack stack) throws Exception {
    RankerHarness h = new RankerHarness(stack);
    TestModels.Mlp model = TestModels.mlp(37);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", model.onnx());
    List<Long> users = new ArrayList<>(fixture.users.keySet());
    long negativeUser = 6_666_661L;
    long tooManyClicks = 6_666_662L;
    long negativeItem = 7_777_771L;
    Map<String, String> a = new HashMap<>(fixture.userHash(users.get(1)));
    a.put("clicks_7d", "-1");
    Map<String, String> b = new HashMap<>(fixture.userHash(users.get(2)));
    b.put("clicks_7d", Double.toString(Double.parseDouble(b.get("impressions_7d")) + 1000));
    Map<String, String> c =
        new HashMap<>(fixture.itemHash(new ArrayList<>(fixture.items.keySet()).get(3)));
    c.put("clicks_7d", "-1");
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(5))) {
      redis.hset(RedisConnections.userKey(negativeUser), a);
      redis.hset(RedisConnections.userKey(tooManyClicks), b);
      redis.hset(RedisConnections.itemKey(negativeItem), c);
      try (RankerApp app = Main.start(h.config())) {
        awaitServing(app, "v1");
        Random r = new Random(4);
        Instant at = fixture.end.plusSeconds(60);
        // one edited hash per request: the user's, the user's, an item's
        long[] requestUsers = {negativeUser, tooManyClicks, users.get(0)};
        for (int q = 0; q < requestUsers.length; q++) {
          long user = requestUsers[q];
          long[] items = someItems(r, 20);
          if (q == 2) {
            items[0] = negativeItem;
          }
          HttpResponse<String> resp =
              h.rank(app.port(), RankerHarness.body(user, items, at, "tablet", "counters-" + q));
          assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
          JsonNode j = RankerHarness.json(resp);
          assertThat(j.get("model_version").asText()).isEqualTo("v1");
          assertThat(j.get("fallback").asBoolean()).isTrue();
          assertThat(j.get("fallback_reason").asText()).isEqualTo("bad_features");
          // the fixture has no features for the edited user and item: evaluated as unknown ones
          double[] want = model.scoreDirect(fixture, user, items, at.toEpochMilli(), Device.TABLET);
          JsonNode preds = j.get("predictions");
          assertThat(preds).hasSize(items.length);
          for (JsonNode p : preds) {
            long id = p.get("item_id").asLong();
            int i = 0;
            while (items[i] != id) {
              i++;
            }
            assertThat(p.get("score").asDouble())
                .as("user %d, item %d", user, id)
                .isCloseTo(want[i], within(1e-6));
          }
        }
      } finally {
        redis.del(
            RedisConnections.userKey(negativeUser),
            RedisConnections.userKey(tooManyClicks),
            RedisConnections.itemKey(negativeItem));
      }
    }
  }

  @Test
  void aNewModelIsHotSwappedUnderLoadWithoutAFailedRequestAndACorruptOneIsRefused(LocalStack stack)
      throws Exception {
    RankerHarness h = new RankerHarness(stack);
    // v1 as exported before feedrank.per_request_inputs (fed every row), v2 after it
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(1).withPerRequest(null).onnx());
    try (RankerApp app = Main.start(h.config())) {
      awaitServing(app, "v1");
      assertThat(perRequestInputs(h, app)).isEmpty();
      ServingModel v1 = app.slots().current(ModelSlots.Variant.PRODUCTION);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger fallbacks = new AtomicInteger();
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int seed = c;
        running.add(
            clients.submit(
                () -> {
                  Random r = new Random(seed);
                  while (!stop.get()) {
                    HttpResponse<String> resp =
                        h.rank(
                            app.port(),
                            RankerHarness.body(
                                r.nextInt(USERS), someItems(r, 50), fixture.end, "mobile", "hs"));
                    statuses
                        .computeIfAbsent(resp.statusCode(), k -> new AtomicInteger())
                        .incrementAndGet();
                    if (resp.statusCode() == 200) {
                      var json = RankerHarness.json(resp);
                      versions
                          .computeIfAbsent(
                              json.get("model_version").asText(), k -> new AtomicInteger())
                          .incrementAndGet();
                      if (json.get("fallback").asBoolean()) {
                        fallbacks.incrementAndGet();
                      }
                    }
                  }
                  return null;
                }));
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> versions.containsKey("v1") && versions.get("v1").get() > 50);
      ModelVersion archived = h.record("v1", ModelStage.ARCHIVED, "mlp", "file:/x", "0");
      h.publish("v2", ModelStage.PRODUCTION, "mlp", TestModels.mlp(2).onnx());
      h.publish(archived);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> versions.containsKey("v2") && versions.get("v2").get() > 50);

      // a corrupt artifact (bytes that do not match the registry's checksum) and an invalid
      // graph with the right checksum: both refused, v2 keeps serving
      double refusedBefore = failures(app, "checksum") + failures(app, "invalid");
      java.net.URI v3 =
          h.artifacts.put(h.modelName + "-v3", "model.onnx", TestModels.mlp(3).onnx());
      h.publish(h.record("v3", ModelStage.PRODUCTION, "mlp", v3.toString(), "ab".repeat(32)));
      h.publish("v4", ModelStage.PRODUCTION, "mlp", "not an onnx graph".getBytes());
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> failures(app, "checksum") + failures(app, "invalid") >= refusedBefore + 2);
      int v2Before = versions.get("v2").get();
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> versions.get("v2").get() > v2Before + 50);
      stop.set(true);
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
      clients.shutdown();

      assertThat(statuses.keySet()).containsOnly(200);
      assertThat(fallbacks.get()).as("responses ranked by popularity, not a model").isZero();
      assertThat(versions.keySet()).contains("v1", "v2").doesNotContain("v4");
      assertThat(v1.closed()).as("the old session is closed").isTrue();
      assertThat(app.slots().current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("v2");
      assertThat(perRequestInputs(h, app)).containsExactly("user", "context", "user_id");
    }
  }

  /**
   * A registry record whose artifact is 3 GiB (a sparse file in the store) is refused by its size,
   * one naming a file out of the store ({@code /proc/self/pagemap}, which says it is empty and is
   * not) as not in it, and the ranker goes on following the registry: the next version swaps in.
   * Reading that artifact used to throw OutOfMemoryError out of the loader and end the registry
   * listener, after which no new model was ever loaded.
   */
  @Test
  void anOversizedArtifactIsRefusedAndTheNextModelStillSwapsIn(LocalStack stack) throws Exception {
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(1).onnx());
    Path huge = Files.createDirectories(h.artifacts.root().resolve("huge")).resolve("model.onnx");
    try (RankerApp app = Main.start(h.config())) {
      awaitServing(app, "v1");
      try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
        f.setLength(3L << 30); // sparse: no disk blocks written
      }
      h.publish(
          h.record("v2", ModelStage.PRODUCTION, "mlp", huge.toUri().toString(), "00".repeat(32)));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> failures(app, "too_large") == 1.0);
      h.publish(
          h.record(
              "v3", ModelStage.PRODUCTION, "mlp", "file:///proc/self/pagemap", "00".repeat(32)));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> failures(app, "missing") >= 1.0);
      assertThat(app.slots().current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("v1");
      h.publish("v4", ModelStage.PRODUCTION, "mlp", TestModels.mlp(4).onnx());
      awaitServing(app, "v4");
      JsonNode ready = RankerHarness.json(h.get(app.port(), "/health/ready"));
      assertThat(ready.get("dependencies").get("registry_following").asBoolean()).isTrue();
      assertThat(app.metrics().get("ranker.registry.listener.failures").counter().count()).isZero();
    } finally {
      Files.deleteIfExists(huge);
    }
  }

  /** What {@code GET /v1/config} says the production model takes once per request. */
  static List<String> perRequestInputs(RankerHarness h, RankerApp app) throws Exception {
    HttpResponse<String> r = h.get(app.port(), "/v1/config");
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> out = new ArrayList<>();
    RankerHarness.json(r).get("production_per_request_inputs").forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void servedRankingsAreLoggedToTheTopicAndDecode(LocalStack stack) throws Exception {
    RankerHarness h = new RankerHarness(stack);
    TestModels.Mlp model = TestModels.mlp(4);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", model.onnx());
    Map<String, JsonNode> served = new HashMap<>();
    Set<String> synthetic = new HashSet<>();
    try (RankerApp app = Main.start(h.config())) {
      awaitServing(app, "v1");
      Random r = new Random(9);
      for (int q = 0; q < 20; q++) {
        String id = h.modelName + "-log-" + q;
        boolean marked = q % 3 == 1; // as a load test marks its requests
        HttpResponse<String> resp =
            h.rank(
                app.port(),
                RankerHarness.body(r.nextInt(USERS), someItems(r, 8), fixture.end, "tablet", id),
                marked);
        assertThat(resp.statusCode()).isEqualTo(200);
        served.put(id, RankerHarness.json(resp));
        if (marked) {
          synthetic.add(id);
        }
      }
      assertThat(app.metrics().get("ranker.requests.synthetic").counter().count())
          .isEqualTo(synthetic.size());
    }
    Map<String, RankingLog> logged = readLogs(stack, served.keySet());
    assertThat(logged.keySet()).isEqualTo(served.keySet());
    for (Map.Entry<String, RankingLog> e : logged.entrySet()) {
      RankingLog log = e.getValue();
      JsonNode resp = served.get(e.getKey());
      assertThat(log.getModelVersion().toString()).isEqualTo("v1");
      assertThat(log.getVariant().toString()).isEqualTo("production");
      assertThat(log.getDevice()).isEqualTo(Device.TABLET);
      assertThat(log.getSynthetic()).as(e.getKey()).isEqualTo(synthetic.contains(e.getKey()));
      assertThat(log.getItems()).hasSize(8);
      for (int k = 0; k < 8; k++) {
        assertThat(log.getItems().get(k).getItemId())
            .isEqualTo(resp.get("ranked_items").get(k).asLong());
        assertThat((double) log.getItems().get(k).getScore())
            .isCloseTo(resp.get("predictions").get(k).get("score").asDouble(), within(1e-6));
      }
      // sample rate 1.0: every candidate's input vector, in feature-spec order
      assertThat(log.getSampledFeatures()).hasSize(8);
      assertThat(log.getSampledFeatures().get(0).getValues()).hasSize(71);
    }
  }

  @Test
  void
      aTwoTowerModelFromTheRegistryScoresLikeItsFullGraphStagingServesItsShareAndItemVectorsFollowRedis(
          LocalStack stack) throws Exception {
    // dated now, as the server's clock is: the ranker holds item vectors for such requests only
    Instant now = Instant.now();
    RankerHarness h = new RankerHarness(stack);
    TestModels.TwoTower tt = TestModels.twoTower(31);
    Map<String, String> towers = new HashMap<>();
    towers.put(
        ModelInputs.ROLE_USER_TOWER,
        h.artifacts.put(h.modelName + "-tt", "user.onnx", tt.userTower()).toString());
    towers.put(
        ModelInputs.ROLE_USER_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(tt.userTower()));
    towers.put(
        ModelInputs.ROLE_ITEM_TOWER,
        h.artifacts.put(h.modelName + "-tt", "item.onnx", tt.itemTower()).toString());
    towers.put(
        ModelInputs.ROLE_ITEM_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(tt.itemTower()));
    java.net.URI full = h.artifacts.put(h.modelName + "-tt", "model.onnx", tt.full());
    ModelVersion ttRecord =
        h.record(
            "tt1",
            ModelStage.PRODUCTION,
            "two_tower",
            full.toString(),
            Checksums.sha256(tt.full()));
    ttRecord.setArtifacts(towers);
    h.publish(ttRecord);
    TestModels.Mlp staging = TestModels.mlp(32);
    h.publish("s1", ModelStage.STAGING, "mlp", staging.onnx());
    Map<String, String> config = h.config();
    config.put("ab.staging.share", "0.5");
    try (RankerApp app = Main.start(config)) {
      awaitServing(app, "tt1");
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> app.slots().current(ModelSlots.Variant.STAGING) != null);
      Random r = new Random(2);
      long salt = ModelSlots.salt(h.modelName, "s1");
      TestModels.Mlp fullGraph = new TestModels.Mlp(tt.full());
      Map<String, Integer> variants = new HashMap<>();
      List<Long> users = new ArrayList<>(fixture.users.keySet());
      for (int q = 0; q < 40; q++) {
        long user = users.get(q);
        long[] items = someItems(r, 30);
        JsonNode j =
            RankerHarness.json(
                h.rank(app.port(), RankerHarness.body(user, items, now, "mobile", "ab" + q)));
        String variant = j.get("variant").asText();
        variants.merge(variant, 1, Integer::sum);
        assertThat(variant)
            .isEqualTo(ModelSlots.inStagingShare(user, salt, 0.5) ? "staging" : "production");
        TestModels.Mlp expected = variant.equals("staging") ? staging : fullGraph;
        double[] want =
            expected.scoreDirect(fixture, user, items, now.toEpochMilli(), Device.MOBILE);
        Map<Long, Double> byItem = new HashMap<>();
        for (int i = 0; i < items.length; i++) {
          byItem.put(items[i], want[i]);
        }
        for (JsonNode p : j.get("predictions")) {
          assertThat(p.get("score").asDouble())
              .isCloseTo(byItem.get(p.get("item_id").asLong()), within(1e-5));
        }
      }
      assertThat(variants).containsKeys("staging", "production");

      // an item's features change in Redis (here from none to another item's): the two-tower
      // score follows, so its precomputed item vector was recomputed from the new features
      long user =
          users.stream()
              .filter(u -> !ModelSlots.inStagingShare(u, salt, 0.5))
              .findFirst()
              .orElseThrow();
      long changed = 8_888_888L;
      long donor =
          fixture.items.entrySet().stream()
              .max(Comparator.comparingLong(e -> e.getValue().lifetimeEvents()))
              .orElseThrow()
              .getKey();
      long[] items = someItems(r, 10);
      items[0] = changed;
      String body = RankerHarness.body(user, items, now, "mobile", "changed");
      double unknown =
          fullGraph.scoreDirect(fixture, user, items, now.toEpochMilli(), Device.MOBILE)[0];
      assertThat(scoreOf(h.rank(app.port(), body), changed)).isCloseTo(unknown, within(1e-5));
      try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(5))) {
        fixture.items.put(changed, fixture.items.get(donor));
        fixture.metadata.put(
            changed,
            ItemMetadata.newBuilder(fixture.metadata.get(donor)).setItemId(changed).build());
        try {
          redis.hset(RedisConnections.itemKey(changed), fixture.itemHash(changed));
          double known =
              fullGraph.scoreDirect(fixture, user, items, now.toEpochMilli(), Device.MOBILE)[0];
          assertThat(known).isNotCloseTo(unknown, within(1e-3));
          Awaitility.await()
              .atMost(Duration.ofSeconds(20))
              .pollInterval(Duration.ofMillis(200))
              .untilAsserted(
                  () ->
                      assertThat(scoreOf(h.rank(app.port(), body), changed))
                          .isCloseTo(known, within(1e-5)));
        } finally {
          fixture.items.remove(changed);
          fixture.metadata.remove(changed);
          redis.del(RedisConnections.itemKey(changed));
        }
      }
    }
  }

  /**
   * The warm-up ranks its requests through the HTTP server, made of the users and items Redis has
   * (counted here with KEYS, not SCAN), before readiness says warmed_up; and none of it shows: not
   * in the service's meters, not in {@code ranking-logs}, not as the last prediction.
   */
  @Test
  void theWarmUpRanksRequestsOfTheUsersAndItemsInRedisBeforeReadinessAndLeavesNoTrace(
      LocalStack stack) throws Exception {
    long users;
    long items;
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(5))) {
      users = redis.keys("fr:u:*").size();
      items = redis.keys("fr:i:*").size();
    }
    // the fixture's, those with events (and what other tests left)
    assertThat(users).isGreaterThan(USERS / 2);
    assertThat(items).isGreaterThan(ITEMS / 2);
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(31).onnx());
    Map<String, String> config = h.config();
    config.put("warmup.requests", "600");
    config.put("warmup.candidates", "40");
    try (RankerApp app = Main.start(config)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> h.get(app.port(), "/health/ready").statusCode() == 200);
      JsonNode ready = RankerHarness.json(h.get(app.port(), "/health/ready"));
      assertThat(ready.at("/checks/warmed_up").asBoolean()).isTrue();
      JsonNode health = RankerHarness.json(h.get(app.port(), "/health"));
      JsonNode w = health.get("warmup");
      assertThat(w.get("state").asText()).isEqualTo("done");
      assertThat(w.get("requests").asInt()).isEqualTo(600);
      assertThat(w.get("users_sampled").asLong()).isEqualTo(Math.min(users, Warmup.MAX_USERS));
      assertThat(w.get("items_sampled").asLong()).isEqualTo(Math.min(items, Warmup.MAX_ITEMS));
      assertThat(w.get("model_version").asText()).isEqualTo("v1");
      assertThat(health.get("last_prediction").isNull()).isTrue();
      String scrape = app.metrics().scrape();
      // the rank counters are exported from the start, and the warm-up left them at 0
      assertThat(scrape)
          .containsPattern("(?m)^ranker_requests_total\\{endpoint=\"/v1/rank\",status=\"200\"\\} 0")
          .doesNotContainPattern(
              "(?m)^ranker_requests_total\\{endpoint=\"/v1/rank\",[^}]*\\} [1-9]");
      assertThat(scrape).containsPattern("(?m)^ranker_inference_latency_seconds_count 0(\\.0)?$");
      assertThat(scrape).containsPattern("(?m)^ranker_log_sent_total 0(\\.0)?$");
      assertThat(scrape).containsPattern("(?m)^ranker_feature_cache_total\\{result=\"miss\"\\} 0");

      // a client's header that is not the warm-up's token is a client's request like any other
      HttpResponse<String> forged =
          h.http.send(
              java.net.http.HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + app.port() + "/v1/rank"))
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          RankerHarness.body(
                              3,
                              someItems(new Random(3), 10),
                              fixture.end,
                              "mobile",
                              "after-warmup")))
                  .header("X-Feedrank-Warmup", "guessed")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(forged.statusCode()).as(forged.body()).isEqualTo(200);
      assertThat(app.metrics().scrape())
          .containsPattern(
              "(?m)^ranker_requests_total\\{endpoint=\"/v1/rank\",status=\"200\"\\} 1(\\.0)?$");
      // ranking-logs holds that request and nothing else of this test's model
      List<String> logged = logsOfModel(stack, h.modelName, "after-warmup");
      assertThat(logged).containsExactly("after-warmup");
    }
  }

  /** Readiness stays DOWN while the warm-up runs; a stop ends it without waiting for it. */
  @Test
  void aWarmUpStillRunningHoldsReadinessDownAndAStopEndsIt(LocalStack stack) throws Exception {
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(32).onnx());
    Map<String, String> config = h.config();
    config.put("warmup.requests", "10000000");
    config.put("warmup.max.ms", "600000");
    RankerApp app = Main.start(config);
    Duration closing;
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  RankerHarness.json(h.get(app.port(), "/health")).at("/warmup/requests").asInt()
                      >= 200);
      HttpResponse<String> ready = h.get(app.port(), "/health/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      JsonNode checks = RankerHarness.json(ready).get("checks");
      assertThat(checks.get("model_loaded").asBoolean()).isTrue();
      assertThat(checks.get("warmed_up").asBoolean()).isFalse();
      assertThat(RankerHarness.json(h.get(app.port(), "/health")).at("/warmup/state").asText())
          .isEqualTo("running");
    } finally {
      long t0 = System.nanoTime();
      app.close();
      closing = Duration.ofNanos(System.nanoTime() - t0);
    }
    // the warm-up stops after its round of requests, not after its ten million (after the finally,
    // so that it cannot hide a failure above)
    assertThat(closing).isLessThan(Duration.ofSeconds(30));
  }

  /** The keys of this model's records in ranking-logs, read until {@code last} has been seen. */
  static List<String> logsOfModel(LocalStack stack, String model, String last) {
    List<String> keys = new ArrayList<>();
    try (KafkaConsumer<String, RankingLog> consumer = logsFromTheStart(stack)) {
      List<TopicPartition> parts = new ArrayList<>(consumer.assignment());
      Runnable poll =
          () -> {
            for (ConsumerRecord<String, RankingLog> r : consumer.poll(Duration.ofMillis(100))) {
              if (r.value().getModelName().toString().equals(model)) {
                keys.add(r.key());
              }
            }
          };
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                poll.run();
                return keys.contains(last);
              });
      // what the topic holds after it, read to its end
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                poll.run();
                return parts.stream().allMatch(p -> consumer.position(p) >= end.get(p));
              });
    }
    return keys;
  }

  static double scoreOf(HttpResponse<String> response, long item) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    for (JsonNode p : RankerHarness.json(response).get("predictions")) {
      if (p.get("item_id").asLong() == item) {
        return p.get("score").asDouble();
      }
    }
    throw new AssertionError("item " + item + " not ranked: " + response.body());
  }

  static double failures(RankerApp app, String reason) {
    var c = app.metrics().find("ranker.model.load.failures").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  static void awaitServing(RankerApp app, String version) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              ServingModel m = app.slots().current(ModelSlots.Variant.PRODUCTION);
              return m != null && m.version().equals(version);
            });
  }

  static Map<String, RankingLog> readLogs(LocalStack stack, Set<String> ids) {
    Map<String, RankingLog> out = new HashMap<>();
    try (KafkaConsumer<String, RankingLog> consumer = logsFromTheStart(stack)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<String, RankingLog> r : consumer.poll(Duration.ofMillis(200))) {
                  if (ids.contains(r.key())) {
                    out.put(r.key(), r.value());
                  }
                }
                return out.keySet().containsAll(ids);
              });
    }
    return out;
  }

  /** A read_committed consumer of every partition of ranking-logs, from the start. */
  static KafkaConsumer<String, RankingLog> logsFromTheStart(LocalStack stack) {
    Map<String, Object> c = new HashMap<>(stack.clientConfig());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put("schema.registry.url", stack.registryUrl());
    c.put(AvroDeserializer.VALUE_TYPE, RankingLog.class.getName());
    AvroDeserializer<RankingLog> d = new AvroDeserializer<>();
    d.configure(c, false);
    KafkaConsumer<String, RankingLog> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), d);
    List<TopicPartition> parts = new ArrayList<>();
    consumer
        .partitionsFor(Topics.RANKING_LOGS)
        .forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
    return consumer;
  }
}
