package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.DeadLetter;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.RedisCluster;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;

/** The features app against real Kafka (EOS), the real registry and real Redis. */
@LocalStackTest
class FeaturesPipelineIT {
  static final int EVENTS = 100_000;
  static final int USERS = 2_000;
  static final int ITEMS = 5_000;
  static final int BAD = 300;

  @Test
  void redisEqualsABatchRecomputationFromTheTopicAndEveryEventIsAccountedFor(LocalStack stack)
      throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(7, USERS, ITEMS, EVENTS);
    h.publishBadRecords(BAD);

    try (Main.FeaturesApp app = Main.start(h.config())) {
      List<ConsumerRecord<Long, TrainingExample>> examples =
          h.trainingExamples(EVENTS, Duration.ofMinutes(4));
      List<DeadLetter> dlq = h.deadLetters(BAD);

      // counts in = training examples + dead letters, with no duplicates (exactly once)
      assertThat(examples).hasSize(EVENTS);
      FeaturesHarness.assertNoDuplicates(examples);
      assertThat(dlq).hasSize(BAD);
      Map<String, Long> codes =
          dlq.stream()
              .collect(Collectors.groupingBy(DeadLetter::getErrorCode, Collectors.counting()));
      assertThat(codes)
          .containsEntry("DESERIALIZATION", 100L)
          .containsEntry("DWELL_OUT_OF_RANGE", 100L)
          .containsEntry("KEY_MISMATCH", 100L);

      // every example is complete and keyed by its user
      for (ConsumerRecord<Long, TrainingExample> r : examples) {
        assertThat(r.key()).isEqualTo(r.value().getUserId());
        assertThat(r.value().getUserFeatures()).hasSize(FeatureSchema.USER.size());
        assertThat(r.value().getItemFeatures()).hasSize(FeatureSchema.ITEM.size());
      }

      FeaturesHarness.Recomputed rc = h.recompute(EVENTS + BAD, ITEMS);
      assertThat(rc.valid()).isEqualTo(EVENTS);
      try (Jedis jedis = new Jedis(URI.create(stack.redisUri()))) {
        FeaturesHarness.awaitRedisMatches(rc, jedis::hgetAll);
        // TTL is set on every hash
        assertThat(jedis.pttl("fr:u:1")).isPositive();
      }
      // metrics saw what happened
      assertThat(app.metrics().get("features.events.processed").counter().count())
          .isEqualTo(EVENTS);
      assertThat(
              app.metrics()
                  .get("features.events.dlq")
                  .tag("code", "KEY_MISMATCH")
                  .counter()
                  .count())
          .isEqualTo(100);
    }
  }

  /**
   * The same sink against a real three-master Redis Cluster ({@code redis-cluster://}): each
   * pipelined batch spans slots on every node, and the hashes must still equal the recomputation.
   */
  @Test
  void againstARedisClusterTheHashesEqualTheRecomputationToo(LocalStack stack, @TempDir Path dir)
      throws Exception {
    int events = 20_000;
    int items = 2_000;
    FeaturesHarness h = new FeaturesHarness(stack);
    h.publishSimulated(11, 1_000, items, events);
    try (RedisCluster cluster = RedisCluster.start(dir, 3, Duration.ofSeconds(60))) {
      Map<String, String> p = h.properties();
      p.put("redis.uri", cluster.uri());
      try (Main.FeaturesApp app = Main.start(FeaturesConfig.from(p));
          UnifiedJedis redis = RedisConnections.connect(cluster.uri(), Duration.ofSeconds(5))) {
        assertThat(h.trainingExamples(events, Duration.ofMinutes(3))).hasSize(events);
        FeaturesHarness.Recomputed rc = h.recompute(events, items);
        FeaturesHarness.awaitRedisMatches(rc, redis::hgetAll);
        assertThat(redis.pttl("fr:u:1")).isPositive();
        // the hashes are spread over every master, so the batches really crossed nodes
        assertThat(cluster.keysPerNode()).allSatisfy(n -> assertThat(n).isGreaterThan(100L));
      }
    }
  }
}
