package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.feedrank.events.ModelStage;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * Redis stopped, or stalled, under traffic: the ranker keeps answering 200 with {@code fallback:
 * true} (stale cache, then default features) and recovers by itself when Redis is back. Its own
 * stack, since it stops and freezes that stack's Redis.
 */
@LocalStackTest(dedicated = true)
class RankerRedisOutageIT {

  @Test
  void redisDownMeansFallbackAnswersNotErrorsAndRecoveryWhenItIsBack(LocalStack stack)
      throws Exception {
    FeatureFixture fixture = new FeatureFixture(3, 200, 1_000, 20_000);
    fixture.writeTo(stack.redisUri());
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(7).onnx());
    List<Long> items = new ArrayList<>(fixture.items.keySet());
    Random r = new Random(1);
    AtomicInteger non200 = new AtomicInteger();
    try (RankerApp app = Main.start(h.config())) {
      RankerIT.awaitServing(app, "v1");
      java.util.function.Supplier<JsonNode> ask =
          () -> {
            long[] ids = r.ints(20, 0, items.size()).distinct().mapToLong(items::get).toArray();
            try {
              HttpResponse<String> resp =
                  h.rank(
                      app.port(),
                      RankerHarness.body(r.nextInt(200), ids, fixture.end, "mobile", "o"));
              if (resp.statusCode() != 200) {
                non200.incrementAndGet();
              }
              return RankerHarness.json(resp);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      assertThat(ask.get().get("fallback").asBoolean()).isFalse();
      assertThat(app.awaitReady(Duration.ofSeconds(30))).isTrue(); // as a load balancer waits

      ListAppender<ILoggingEvent> failures = readFailureLines();
      try {
        stack.redis().stop();
        Awaitility.await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> ask.get().get("fallback").asBoolean());
      } finally {
        readFailureLinesOff(failures);
      }
      // the log says why, at once: the connection failed
      assertThat(said(failures)).anyMatch(m -> m.contains("JedisConnectionException"));
      JsonNode during = ask.get();
      assertThat(during.get("fallback").asBoolean()).isTrue();
      assertThat(during.get("fallback_reason").asText()).startsWith("redis_");
      assertThat(during.get("model_version").asText()).isEqualTo("v1"); // the model still ranks
      for (int i = 0; i < 50; i++) {
        ask.get();
      }
      // still ready, so a load balancer keeps it: every replica shares this Redis, and taking
      // them out would turn degraded rankings into none; the outage shows in the body
      HttpResponse<String> ready = h.get(app.port(), "/health/ready");
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      JsonNode readyBody = RankerHarness.json(ready);
      assertThat(readyBody.get("checks").get("redis_answered").asBoolean()).isTrue();
      assertThat(readyBody.get("dependencies").get("redis_reachable").asBoolean()).isFalse();

      stack.redis().start(Duration.ofSeconds(10));
      fixture.writeTo(stack.redisUri()); // a restarted Redis without persistence is empty
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> !ask.get().get("fallback").asBoolean());
      assertThat(non200).hasValue(0);
      assertThat(
              RankerHarness.json(h.get(app.port(), "/health/ready"))
                  .get("dependencies")
                  .get("redis_reachable")
                  .asBoolean())
          .isTrue();
      var fallbacks =
          app.metrics()
              .find("ranker.fallbacks")
              .tags("cause", "redis_unavailable", "variant", "production")
              .counter();
      assertThat(fallbacks).isNotNull();
      assertThat(fallbacks.count())
          .as("responses that fell back while Redis was away")
          .isPositive();
    }
  }

  /**
   * Redis frozen (SIGSTOP), not gone: connections open and commands unanswered, as when Redis
   * stalls. Every request is answered while it is still frozen: entries the cache holds are served
   * stale, with exactly the scores they had; entities it does not hold get the default features,
   * exactly the scores of the same ids once their keys are deleted. Thawed, real features again.
   */
  @Test
  void aStalledRedisMeansStaleThenDefaultFeaturesAnsweredWhileItStallsAndRecoveryAfter(
      LocalStack stack) throws Exception {
    FeatureFixture fixture = new FeatureFixture(5, 200, 1_000, 20_000);
    fixture.writeTo(stack.redisUri());
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(8).onnx());
    List<Long> items = new ArrayList<>(new TreeSet<>(fixture.items.keySet()));
    List<Long> users = new ArrayList<>(new TreeSet<>(fixture.users.keySet()));
    long[] cached = items.subList(0, 30).stream().mapToLong(Long::longValue).toArray();
    long[] uncached = items.subList(30, 60).stream().mapToLong(Long::longValue).toArray();
    String seen = RankerHarness.body(users.get(0), cached, fixture.end, "mobile", "seen");
    String unseen = RankerHarness.body(users.get(1), uncached, fixture.end, "tablet", "unseen");
    try (RankerApp app = Main.start(h.config())) {
      RankerIT.awaitServing(app, "v1");
      JsonNode before = rank(h, app, seen);
      assertThat(before.get("fallback").asBoolean()).isFalse();
      double failuresBefore = app.metrics().get("ranker.redis.failures").counter().count();

      JsonNode stale;
      JsonNode defaults;
      ListAppender<ILoggingEvent> failures = readFailureLines();
      stack.redis().freeze();
      try {
        // past cache.max.serve.ms (400 ms) the request reads Redis, which does not answer
        stale =
            Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> rank(h, app, seen), r -> r.get("fallback").asBoolean());
        defaults = rank(h, app, unseen);
      } finally {
        stack.redis().thaw();
        readFailureLinesOff(failures);
      }
      // the log says why, at once: the read timed out
      assertThat(said(failures)).anyMatch(m -> m.contains("SocketTimeoutException"));
      assertThat(stale.get("fallback_reason").asText()).startsWith("redis_");
      assertThat(scores(stale)).isEqualTo(scores(before)); // the same features, stale
      assertThat(defaults.get("fallback").asBoolean()).isTrue();
      assertThat(defaults.get("model_version").asText()).isEqualTo("v1");
      assertThat(app.metrics().get("ranker.redis.failures").counter().count())
          .isGreaterThan(failuresBefore);

      JsonNode real =
          Awaitility.await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(200))
              .until(() -> rank(h, app, unseen), r -> !r.get("fallback").asBoolean());
      assertThat(scores(real)).isNotEqualTo(scores(defaults)); // real features score otherwise

      // the same ids with nothing in Redis: what the stall served is what unknown ids get
      try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(5))) {
        redis.del(RedisConnections.userKey(users.get(1)));
        for (long id : uncached) {
          redis.del(RedisConnections.itemKey(id));
        }
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(
              () -> {
                JsonNode r = rank(h, app, unseen);
                assertThat(r.get("fallback").asBoolean()).isFalse();
                assertThat(scores(r)).isEqualTo(scores(defaults));
              });
    }
  }

  static final String READ_FAILURES = "io.feedrank.ranker.features.RedisReadFailures";

  /** Captures the lines saying why the ranker's Redis reads fail. */
  static ListAppender<ILoggingEvent> readFailureLines() {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    ((Logger) LoggerFactory.getLogger(READ_FAILURES)).addAppender(lines);
    return lines;
  }

  static void readFailureLinesOff(ListAppender<ILoggingEvent> lines) {
    ((Logger) LoggerFactory.getLogger(READ_FAILURES)).detachAppender(lines);
  }

  /** The WARN lines captured. */
  static List<String> said(ListAppender<ILoggingEvent> lines) {
    synchronized (lines) {
      return lines.list.stream()
          .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
          .map(ILoggingEvent::getFormattedMessage)
          .toList();
    }
  }

  static JsonNode rank(RankerHarness h, RankerApp app, String body) throws Exception {
    HttpResponse<String> r = h.rank(app.port(), body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return RankerHarness.json(r);
  }

  /** Score by item id, rounded to 6 decimals (the response's floats, read back). */
  static Map<Long, Double> scores(JsonNode response) {
    Map<Long, Double> out = new TreeMap<>();
    for (JsonNode p : response.get("predictions")) {
      out.put(p.get("item_id").asLong(), Math.round(p.get("score").asDouble() * 1e6) / 1e6);
    }
    return out;
  }
}
