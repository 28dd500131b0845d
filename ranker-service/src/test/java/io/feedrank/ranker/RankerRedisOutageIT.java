package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.feedrank.events.ModelStage;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Redis stopped under traffic: the ranker keeps answering 200 with {@code fallback: true} (stale
 * cache, then default features) and recovers by itself when Redis is back. Its own stack, since it
 * stops that stack's Redis.
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

      stack.redis().stop();
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> ask.get().get("fallback").asBoolean());
      JsonNode during = ask.get();
      assertThat(during.get("fallback").asBoolean()).isTrue();
      assertThat(during.get("fallback_reason").asText()).startsWith("redis_");
      assertThat(during.get("model_version").asText()).isEqualTo("v1"); // the model still ranks
      for (int i = 0; i < 50; i++) {
        ask.get();
      }

      stack.redis().start(Duration.ofSeconds(10));
      fixture.writeTo(stack.redisUri()); // a restarted Redis without persistence is empty
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> !ask.get().get("fallback").asBoolean());
      assertThat(non200).hasValue(0);
      assertThat(app.metrics().find("ranker.fallbacks").tag("cause", "redis_unavailable").counter())
          .isNotNull();
    }
  }
}
