package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import io.feedrank.events.RankingLog;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.FeatureStore;
import io.feedrank.ranker.logging.RankingLogger;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.ModelException;
import io.feedrank.ranker.scoring.Scorer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * What a ranking log says of the A/B assignment when the assigned model does not serve: the arm and
 * the leased model are kept beside what served (popularity), so that the drift job can count the
 * ranking against the arm (intention to treat).
 */
class RankServiceTest {
  /** Every user and item unknown: default features, enough for scoring and popularity. */
  static final FeatureStore EMPTY =
      new FeatureStore() {
        @Override
        @SuppressWarnings("unchecked")
        public Fetched fetch(long[] userIds, long[] itemIds) {
          Map<String, String>[] u = new Map[userIds.length];
          java.util.Arrays.fill(u, Map.of());
          Map<String, String>[] i = new Map[itemIds.length];
          java.util.Arrays.fill(i, Map.of());
          return new Fetched(u, i);
        }
      };

  static ServingModel model(String version, boolean fails) {
    return new ServingModel(
        "m",
        version,
        "mlp",
        1,
        Instant.now(),
        new Scorer() {
          @Override
          public float[] score(Batch batch) {
            if (fails) {
              throw new ModelException("ORT_RUNTIME_EXCEPTION: test");
            }
            return new float[batch.rows()];
          }

          @Override
          public void close() {}
        });
  }

  static final RankRequest REQUEST =
      new RankRequest(
          "r1", 42, new long[] {1, 2, 3}, Device.MOBILE, Instant.now().toEpochMilli(), 3);

  /** Ranks {@link #REQUEST} once and returns its result and the log record built from it. */
  static RankingLog rankOnce(ModelSlots slots, SimpleMeterRegistry metrics, RankResult[] result)
      throws Exception {
    List<RankingLog> logged = new CopyOnWriteArrayList<>();
    try (CachingFeatureStore cache = ScoringTest.cache(EMPTY, metrics);
        RankingLogger<RankingLogs.Entry> logger = ScoringTest.logger(logged::add, metrics)) {
      result[0] = new RankService(cache, slots, logger, 0, metrics).rank(REQUEST);
    }
    assertThat(logged).hasSize(1); // closing the logger builds what it holds
    return logged.get(0);
  }

  /**
   * Share 1.0: every user is assigned to staging. The staging model throws; popularity serves, and
   * the log says so in variant and model, and that the user was assigned to staging and leased s1.
   */
  @Test
  void aFailingStagingModelsRankingIsLoggedWithTheArmAndTheModelItWasLeased() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(1.0);
    slots.install(ModelSlots.Variant.PRODUCTION, model("p1", false));
    slots.install(ModelSlots.Variant.STAGING, model("s1", true));
    RankResult[] result = new RankResult[1];
    RankingLog log = rankOnce(slots, metrics, result);
    slots.clear();

    assertThat(result[0].fallbackReason()).isEqualTo("model_error");
    assertThat(log.getFallbackReason()).isEqualTo("model_error");
    // what served
    assertThat(log.getVariant()).isEqualTo("fallback");
    assertThat(log.getModelName()).isEqualTo("popularity");
    assertThat(log.getModelVersion()).isEqualTo("popularity");
    // what the user was assigned and leased
    assertThat(log.getAssignedVariant()).isEqualTo("staging");
    assertThat(log.getLeasedModelName()).isEqualTo("m");
    assertThat(log.getLeasedModelVersion()).isEqualTo("s1");
    assertThat(
            metrics
                .get("ranker.fallbacks")
                .tags("cause", "model_error", "variant", "staging")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            metrics
                .get("ranker.fallbacks")
                .tags("cause", "model_error", "variant", "production")
                .counter()
                .count())
        .isZero();
  }

  /**
   * The registry's STAGING version is not loaded here and there is no production model either: the
   * request is ranked by popularity (no_model), assigned to staging, leased nothing, and counted as
   * an assignment to staging that no staging model served.
   */
  @Test
  void aRankingWithNoModelLoadedKeepsItsAssignmentAndLeasesNothing() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(1.0);
    slots.expectStaging("m", "s2");
    RankResult[] result = new RankResult[1];
    RankingLog log = rankOnce(slots, metrics, result);

    assertThat(result[0].fallbackReason()).isEqualTo("no_model");
    assertThat(log.getVariant()).isEqualTo("fallback");
    assertThat(log.getAssignedVariant()).isEqualTo("staging");
    assertThat(log.getLeasedModelName()).isNull();
    assertThat(log.getLeasedModelVersion()).isNull();
    assertThat(metrics.get("ranker.ab.unserved").counter().count()).isEqualTo(1);
  }

  /** Staging assigned but not loaded here: production serves and the log keeps both. */
  @Test
  void anAssignmentToAStagingModelNotLoadedHereIsServedByProductionAndLogged() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(1.0);
    slots.install(ModelSlots.Variant.PRODUCTION, model("p1", false));
    slots.expectStaging("m", "s2");
    RankResult[] result = new RankResult[1];
    RankingLog log = rankOnce(slots, metrics, result);
    slots.clear();

    assertThat(result[0].fallback()).isFalse();
    assertThat(log.getVariant()).isEqualTo("production");
    assertThat(log.getModelVersion()).isEqualTo("p1");
    assertThat(log.getAssignedVariant()).isEqualTo("staging");
    assertThat(log.getLeasedModelVersion()).isEqualTo("p1");
    assertThat(metrics.get("ranker.ab.unserved").counter().count()).isEqualTo(1);
  }
}
