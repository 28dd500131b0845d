package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.ranker.features.RedisFeatureStore;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.Scorer;
import java.time.Duration;
import java.time.Instant;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.ScanIteration;
import redis.clients.jedis.UnifiedJedis;

/** The warm-up's report, which readiness waits for, when the warm-up itself fails. */
class WarmupTest {

  /**
   * An Error (here from the first Redis scan) ended the warm-up's thread before it wrote its
   * report, so readiness waited for it for good: the report is written whatever ends the thread.
   */
  @Test
  void aWarmUpEndedByAnErrorStillReportsFailedSoTheRankerCanBecomeReady() {
    UnifiedJedis failing =
        new UnifiedJedis(null, null, RedisProtocol.RESP2, null) {
          @Override
          public ScanIteration scanIteration(int batchCount, String match) {
            throw new StackOverflowError("a scan that overflowed its stack");
          }
        };
    ModelSlots slots = new ModelSlots(0);
    slots.install(
        ModelSlots.Variant.PRODUCTION,
        new ServingModel("m", "v1", "mlp", 1, Instant.EPOCH, new ZeroScorer()));
    Warmup warmup =
        new Warmup(
            new RedisFeatureStore(failing),
            slots,
            RankerConfig.from(RankerConfigTest.required()),
            log -> {});
    warmup.start(1);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> warmup.report().finished());
    assertThat(warmup.report().state()).isEqualTo("failed");
  }

  private static final class ZeroScorer implements Scorer {
    @Override
    public float[] score(Batch batch) {
      return new float[batch.rows()];
    }

    @Override
    public void close() {}
  }
}
