package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.feedrank.events.Device;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.FeatureStore;
import io.feedrank.ranker.logging.RankingLogger;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.MlpScorer;
import io.feedrank.ranker.scoring.ModelException;
import io.feedrank.ranker.scoring.OnnxModel;
import io.feedrank.ranker.scoring.Scorer;
import io.feedrank.ranker.scoring.TwoTowerScorer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The scoring path with real ONNX Runtime sessions, against direct evaluations. */
class ScoringTest {
  static FeatureFixture fixture;
  static List<Long> users;
  static List<Long> items;

  @BeforeAll
  static void features() {
    fixture = new FeatureFixture(2, 200, 800, 15_000);
    users = new ArrayList<>(fixture.users.keySet());
    items = new ArrayList<>(fixture.items.keySet());
  }

  static Batch batch(long user, long[] ids, long at, Device d) {
    io.feedrank.ranker.features.Parsed.Item[] items =
        new io.feedrank.ranker.features.Parsed.Item[ids.length];
    for (int i = 0; i < ids.length; i++) {
      items[i] = io.feedrank.ranker.features.Parsed.Item.of(ids[i], fixture.itemHash(ids[i]));
    }
    return Batch.of(new ServingFeatures(user, fixture.userHash(user), at, d), ids, items);
  }

  /**
   * The towers of {@code t} as the ranker serves them: 10,000 item vectors, 1 minute max age,
   * served without their features while those are younger than 5 s; the server's clock at the
   * fixture's end, where the tests date their requests.
   */
  static TwoTowerScorer scorer(TestModels.TwoTower t, AtomicLong clock) {
    return new TwoTowerScorer(
        OnnxModel.load(t.userTower(), "user_vec", 1),
        OnnxModel.load(t.itemTower(), "item_vec", 1),
        10_000,
        Duration.ofMinutes(1),
        Duration.ofSeconds(5),
        clock::get,
        () -> fixture.end.toEpochMilli());
  }

  /** A click with a like, a share and a long dwell: enough to move an item's scores. */
  static io.feedrank.events.InteractionEvent engagement(long user, long item, long atMillis) {
    return io.feedrank.events.InteractionEvent.newBuilder()
        .setInteractionId("engagement-" + item + "-" + atMillis)
        .setUserId(user)
        .setItemId(item)
        .setEventTime(Instant.ofEpochMilli(atMillis))
        .setClick(true)
        .setLike(true)
        .setShare(true)
        .setDwellSeconds(500f)
        .setDevice(Device.DESKTOP)
        .build();
  }

  static long[] ids(int n, int offset) {
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = items.get((offset + i * 7) % items.size());
    }
    return ids;
  }

  /**
   * The scores of a batch equal a direct evaluation fed every input row by row, both when the model
   * takes the user's side once per request (what model-spec exports: the ranker feeds one row of
   * it) and when it does not (a model exported before that: every row is fed).
   */
  @Test
  void batchedScoresFromDirectBuffersEqualADirectEvaluationOfTheSameRows() throws Exception {
    TestModels.Mlp exported = TestModels.mlp(3);
    long at = fixture.end.toEpochMilli() + 60_000;
    for (TestModels.Mlp m : List.of(exported, exported.withPerRequest(null))) {
      OnnxModel model = OnnxModel.load(m.onnx(), ModelInputs.SCORE, 1);
      try (MlpScorer scorer = new MlpScorer(model)) { // closes the model
        assertThat(model.perRequest())
            .isEqualTo(
                m == exported
                    ? Set.of(ModelInputs.USER, ModelInputs.CONTEXT, ModelInputs.USER_ID)
                    : Set.of());
        for (int n : new int[] {1, 17, 1000}) {
          long user = users.get(n % users.size());
          long[] ids = ids(Math.min(n, items.size()), n);
          float[] got = scorer.score(batch(user, ids, at, Device.MOBILE));
          double[] want = m.scoreDirect(fixture, user, ids, at, Device.MOBILE);
          assertThat(got).hasSize(want.length);
          if (n == 1000) {
            assertThat(java.util.Arrays.stream(want).filter(v -> v > 0.05 && v < 0.95).count())
                .as("scores are not saturated")
                .isGreaterThan(n / 2);
          }
          for (int i = 0; i < got.length; i++) {
            assertThat((double) got[i]).isCloseTo(want[i], within(1e-6));
          }
        }
      }
    }
    // one batch scored by both: the second fills the user rows the first did not need
    try (MlpScorer once = MlpScorer.load(exported.onnx(), 1);
        MlpScorer rowByRow = MlpScorer.load(exported.withPerRequest(null).onnx(), 1)) {
      long user = users.get(2);
      long[] ids = ids(50, 9);
      Batch b = batch(user, ids, at, Device.DESKTOP);
      double[] want = exported.scoreDirect(fixture, user, ids, at, Device.DESKTOP);
      float[] first = once.score(b);
      float[] second = rowByRow.score(b);
      for (int i = 0; i < ids.length; i++) {
        assertThat((double) first[i]).isCloseTo(want[i], within(1e-6));
        assertThat((double) second[i]).isCloseTo(want[i], within(1e-6));
      }
    }
  }

  /**
   * Rows read before the model ran (vectorized one at a time: what a two-tower request and the
   * sampled vectors of the ranking logs read) and after it (from the tensors' buffers) are both the
   * row feature-spec builds from the item's Redis hash.
   */
  @Test
  void rowsReadBeforeAndAfterTheModelRanAreTheVectorizersRows() throws Exception {
    long at = fixture.end.toEpochMilli() + 60_000;
    long user = users.get(1);
    long[] ids = ids(40, 3);
    ServingFeatures direct = new ServingFeatures(user, fixture.userHash(user), at, Device.TABLET);
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    try (MlpScorer scorer = MlpScorer.load(TestModels.mlp(4).onnx(), 1)) {
      Batch b = batch(user, ids, at, Device.TABLET);
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ids.length; i++) {
          var want = direct.row(ids[i], fixture.itemHash(ids[i]), 1, 1);
          assertThat(b.itemVector(i, item))
              .as("pass %d row %d", pass, i)
              .containsExactly(want.item);
          assertThat(b.crossVector(i, cross))
              .as("pass %d row %d", pass, i)
              .containsExactly(want.cross);
        }
        scorer.score(b); // fills the buffers: the second pass reads them
      }
    }
  }

  @Test
  void twoTowerScoresEqualTheFullModelAndCachedItemVectorsRefreshWhenFeaturesChange()
      throws Exception {
    TestModels.TwoTower t = TestModels.twoTower(5);
    TestModels.Mlp full = new TestModels.Mlp(t.full());
    AtomicLong clock = new AtomicLong(0);
    long at = fixture.end.toEpochMilli();
    long user = users.get(3);
    long[] ids = ids(300, 1);
    try (TwoTowerScorer s = scorer(t, clock)) {
      double[] want = full.scoreDirect(fixture, user, ids, at, Device.DESKTOP);
      assertThat(java.util.Arrays.stream(want).filter(v -> v > 0.05 && v < 0.95).count())
          .as("scores are not saturated, so 1e-5 is a meaningful tolerance")
          .isGreaterThan(ids.length / 2);
      for (int pass = 0; pass < 2; pass++) { // the second pass reads every item vector from cache
        float[] got = s.score(batch(user, ids, at, Device.DESKTOP));
        for (int i = 0; i < ids.length; i++) {
          assertThat((double) got[i]).isCloseTo(want[i], within(1e-5));
        }
      }
      // an item whose features moved on (new _ts) gets a fresh vector; the others stay cached
      long changed = ids[0];
      fixture.items.get(changed).add(engagement(user, changed, at + 1_000));
      double[] after = full.scoreDirect(fixture, user, ids, at + 1_000, Device.DESKTOP);
      float[] got = s.score(batch(user, ids, at + 1_000, Device.DESKTOP));
      assertThat((double) got[0]).isCloseTo(after[0], within(1e-5));
      assertThat(after[0]).isNotCloseTo(want[0], within(1e-3));

      // a late event (older than the item's latest) changes its counters but not its _ts: the
      // vector is computed again all the same
      long late = ids[1];
      String tsBefore = fixture.itemHash(late).get("_ts");
      io.feedrank.features.state.ItemState lt = fixture.items.get(late);
      lt.add(engagement(user, late, lt.referenceMillis() - 60_000));
      assertThat(fixture.itemHash(late).get("_ts")).isEqualTo(tsBefore);
      double[] afterLate = full.scoreDirect(fixture, user, ids, at + 1_000, Device.DESKTOP);
      assertThat(afterLate[1]).isNotCloseTo(after[1], within(1e-3));
      got = s.score(batch(user, ids, at + 1_000, Device.DESKTOP));
      assertThat((double) got[1]).isCloseTo(afterLate[1], within(1e-5));
    }
  }

  /** Parsed features of the fixture's items, as the feature cache hands them out. */
  static io.feedrank.ranker.features.Parsed.Item[] parsed(long[] ids) {
    io.feedrank.ranker.features.Parsed.Item[] out =
        new io.feedrank.ranker.features.Parsed.Item[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = io.feedrank.ranker.features.Parsed.Item.of(ids[i], fixture.itemHash(ids[i]));
    }
    return out;
  }

  static long[] readAt(int n, long nanos) {
    long[] t = new long[n];
    java.util.Arrays.fill(t, nanos);
    return t;
  }

  @Test
  void twoTowerCoversCandidatesWhoseVectorsCameFromFreshFeaturesAndScoresThemWithoutFeatures()
      throws Exception {
    TestModels.TwoTower t = TestModels.twoTower(9);
    TestModels.Mlp full = new TestModels.Mlp(t.full());
    long second = Duration.ofSeconds(1).toNanos();
    AtomicLong clock = new AtomicLong(1_000 * second);
    long at = fixture.end.toEpochMilli();
    long user = users.get(7);
    long[] ids = ids(150, 11);
    ServingFeatures sf = new ServingFeatures(user, fixture.userHash(user), at, Device.TABLET);
    java.util.function.Function<long[], io.feedrank.ranker.features.Parsed.Item[]> noLookups =
        x -> {
          throw new AssertionError("covered rows' features looked up: " + x.length);
        };
    try (TwoTowerScorer s = scorer(t, clock)) {
      double[] want = full.scoreDirect(fixture, user, ids, at, Device.TABLET);

      // the first request: nothing held yet; its features, read now, fill the table
      Batch b = Batch.begin(ids, at);
      assertThat(s.cover(b)).isZero();
      float[] got = s.score(b.features(sf, parsed(ids), readAt(ids.length, clock.get()), null));
      for (int i = 0; i < ids.length; i++) {
        assertThat((double) got[i]).isCloseTo(want[i], within(1e-5));
      }

      // 3.5 s later every candidate is covered and scored with no item features at all (each
      // item's features stay fresh for 5 s less its jitter, up to a quarter: at least 3.75 s)
      clock.addAndGet(3 * second + second / 2);
      b = Batch.begin(ids, at);
      assertThat(s.cover(b)).isEqualTo(ids.length);
      got =
          s.score(
              b.features(
                  sf, new io.feedrank.ranker.features.Parsed.Item[ids.length], null, noLookups));
      for (int i = 0; i < ids.length; i++) {
        assertThat((double) got[i]).as("covered row %d", i).isCloseTo(want[i], within(1e-5));
      }

      // from 3.75 s on the items lapse one by one, as their entries in the feature cache go stale:
      // at 4.375 s, half way, about half of the 150 are still covered
      clock.addAndGet(7 * second / 8);
      b = Batch.begin(ids, at);
      assertThat(s.cover(b)).isBetween(50, 100);

      // an item changes; 5.5 s after the read its features are no longer fresh (5 s): nothing is
      // covered, the rows are read again, the changed item is scored from its new features and
      // the others from their held vectors, whose fingerprints still match
      long changed = ids[2];
      fixture.items.get(changed).add(engagement(user, changed, at + 500));
      double[] after = full.scoreDirect(fixture, user, ids, at, Device.TABLET);
      assertThat(after[2]).isNotCloseTo(want[2], within(1e-3));
      clock.addAndGet(second + second / 8);
      b = Batch.begin(ids, at);
      assertThat(s.cover(b)).isZero();
      got = s.score(b.features(sf, parsed(ids), readAt(ids.length, clock.get()), noLookups));
      for (int i = 0; i < ids.length; i++) {
        assertThat((double) got[i]).as("row %d", i).isCloseTo(after[i], within(1e-5));
      }
      b = Batch.begin(ids, at);
      assertThat(s.cover(b)).as("revalidated: fresh again").isEqualTo(ids.length);

      // features served without a read (Redis down: defaults or old entries) and unreadable
      // features are scored, never held
      clock.addAndGet(10 * second);
      long[] two = {ids[0], ids[1]};
      io.feedrank.ranker.features.Parsed.Item bad =
          io.feedrank.ranker.features.Parsed.Item.of(ids[1], Map.of("i_ctr_7d", "x", "_ts", "1"));
      assertThat(bad.malformed()).isTrue();
      b = Batch.begin(two, at);
      assertThat(s.cover(b)).isZero();
      s.score(
          b.features(
              sf,
              new io.feedrank.ranker.features.Parsed.Item[] {
                io.feedrank.ranker.features.Parsed.Item.UNKNOWN, bad
              },
              new long[] {Long.MIN_VALUE, clock.get()},
              null));
      b = Batch.begin(two, at);
      assertThat(s.cover(b)).isZero();
    }
  }

  /**
   * A request dated a day back (a replay) is scored with item vectors of its own time, and does not
   * leave them to the requests of the present, nor take theirs: both are equal to the full model's
   * evaluation at their own times. The held vectors serve requests dated within the slack of the
   * server's clock only.
   */
  @Test
  void twoTowerVectorsServeOnlyRequestsNearTheTimeTheyWereComputedFor() throws Exception {
    TestModels.TwoTower t = TestModels.twoTower(9);
    TestModels.Mlp full = new TestModels.Mlp(t.full());
    AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    long now = fixture.end.toEpochMilli();
    long dayBack = now - Duration.ofDays(1).toMillis();
    long user = users.get(7);
    long[] ids = ids(100, 3);
    try (TwoTowerScorer s = scorer(t, clock)) {
      double[] wantBack = full.scoreDirect(fixture, user, ids, dayBack, Device.MOBILE);
      double[] wantNow = full.scoreDirect(fixture, user, ids, now, Device.MOBILE);
      assertThat(wantBack[0]).isNotCloseTo(wantNow[0], within(1e-3));
      for (long at : new long[] {dayBack, now, dayBack}) {
        double[] want = at == now ? wantNow : wantBack;
        ServingFeatures sf = new ServingFeatures(user, fixture.userHash(user), at, Device.MOBILE);
        Batch b = Batch.begin(ids, at);
        assertThat(s.cover(b)).as("covered at %d", at).isZero();
        float[] got = s.score(b.features(sf, parsed(ids), readAt(ids.length, clock.get()), null));
        for (int i = 0; i < ids.length; i++) {
          assertThat((double) got[i]).as("row %d at %d", i, at).isCloseTo(want[i], within(1e-5));
        }
      }
      // the present's vectors serve requests dated within the slack of the server's clock
      assertThat(s.cover(Batch.begin(ids, now + TwoTowerScorer.EVENT_SLACK_MS)))
          .isEqualTo(ids.length);
      assertThat(s.cover(Batch.begin(ids, now - TwoTowerScorer.EVENT_SLACK_MS)))
          .isEqualTo(ids.length);
      assertThat(s.cover(Batch.begin(ids, now + TwoTowerScorer.EVENT_SLACK_MS + 1))).isZero();
    }
  }

  /** Each model holds its own vectors, by item id: unknown ids differ by their id embedding. */
  @Test
  void itemVectorsAreHeldPerModelAndPerItemId() throws Exception {
    TestModels.TwoTower ta = TestModels.twoTower(5);
    TestModels.TwoTower tb = TestModels.twoTower(6);
    TestModels.Mlp fullA = new TestModels.Mlp(ta.full());
    TestModels.Mlp fullB = new TestModels.Mlp(tb.full());
    long at = fixture.end.toEpochMilli();
    long user = users.get(4);
    long[] known = ids(40, 3);
    long[] ids = java.util.Arrays.copyOf(known, known.length + 3);
    for (int k = 0; k < 3; k++) {
      ids[known.length + k] = 900_000_000L + k; // never seen
    }
    // the same parsed entries in every request, as the feature cache hands them out: read from
    // their hashes (an unknown id gets a default entry of its own), then with the unknown ids all
    // on the one default entry and no read time, as when Redis could not be read
    Batch first = batch(user, ids, at, Device.MOBILE);
    io.feedrank.ranker.features.Parsed.Item[] read =
        new io.feedrank.ranker.features.Parsed.Item[ids.length];
    io.feedrank.ranker.features.Parsed.Item[] shared =
        new io.feedrank.ranker.features.Parsed.Item[ids.length];
    for (int i = 0; i < ids.length; i++) {
      read[i] = first.item(i);
      shared[i] =
          i < known.length ? first.item(i) : io.feedrank.ranker.features.Parsed.Item.UNKNOWN;
    }
    assertThat(read[ids.length - 1].unknown()).isTrue();
    assertThat(read[ids.length - 1]).isNotSameAs(read[ids.length - 2]);
    double[] wantA = fullA.scoreDirect(fixture, user, ids, at, Device.MOBILE);
    double[] wantB = fullB.scoreDirect(fixture, user, ids, at, Device.MOBILE);
    int u = ids.length - 3;
    assertThat(wantA[u])
        .as("unknown ids differ by their embedding")
        .isNotCloseTo(wantA[u + 1], within(1e-4));
    assertThat(wantA[0]).as("the two models differ").isNotCloseTo(wantB[0], within(1e-4));
    AtomicLong clock = new AtomicLong(0);
    try (TwoTowerScorer a = scorer(ta, clock);
        TwoTowerScorer b = scorer(tb, clock)) {
      for (int pass = 0; pass < 6; pass++) { // A twice (the second from what A holds), then B
        io.feedrank.ranker.features.Parsed.Item[] entries = pass < 3 ? read : shared;
        List<TwoTowerScorer> order = List.of(a, a, b);
        for (int j = 0; j < order.size(); j++) {
          TwoTowerScorer s = order.get(j);
          double[] want = s == a ? wantA : wantB;
          ServingFeatures sf = new ServingFeatures(user, fixture.userHash(user), at, Device.MOBILE);
          long[] readAt = readAt(ids.length, clock.get());
          if (pass >= 3) {
            java.util.Arrays.fill(readAt, known.length, ids.length, Long.MIN_VALUE);
          }
          Batch batch = Batch.begin(ids, at);
          // the second A of a pass finds what the first held, fresh; not the vectors of features
          // served without a read
          int covered = j != 1 ? 0 : pass >= 3 ? known.length : ids.length;
          assertThat(s.cover(batch)).as("pass %d, %d", pass, j).isEqualTo(covered);
          float[] got = s.score(batch.features(sf, entries, readAt, null));
          for (int i = 0; i < ids.length; i++) {
            assertThat((double) got[i])
                .as("pass %d, model %s, item %d", pass, s == a ? "A" : "B", ids[i])
                .isCloseTo(want[i], within(1e-5));
          }
        }
        clock.addAndGet(Duration.ofSeconds(35).toNanos()); // every other pass is past max age
      }
    }
  }

  /** A cache over {@code store}, entries fresh for a second, its breaker open for one. */
  /**
   * A ranking logger of 100 entries that hands each record to {@code sink} instead of Kafka (built
   * as the producer would send it), and drops nothing for its size.
   */
  static RankingLogger<RankingLogs.Entry> logger(
      Consumer<io.feedrank.events.RankingLog> sink, SimpleMeterRegistry metrics) {
    return RankingLogger.discarding(
        sink,
        100,
        Long.MAX_VALUE,
        RankingLogs.Entry::estimatedBytes,
        RankingLogs::toRecord,
        metrics);
  }

  static CachingFeatureStore cache(FeatureStore store, SimpleMeterRegistry metrics) {
    return new CachingFeatureStore(
        store,
        1000,
        new CachingFeatureStore.Ttls(
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(10)),
        CachingFeatureStore.breakerConfig(50, Duration.ofSeconds(1), Duration.ofSeconds(1)),
        metrics,
        System::nanoTime);
  }

  @Test
  void theServiceRanksByScoreAndFallsBackToPopularityWithoutAModel() throws Exception {
    TestModels.Mlp m = TestModels.mlp(8);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    FeatureStore store = fixtureStore();
    CachingFeatureStore cache = cache(store, metrics);
    ModelSlots slots = new ModelSlots(0);
    List<io.feedrank.events.RankingLog> logged = new CopyOnWriteArrayList<>();
    // the cache's background refresh thread stops with it
    try (cache;
        RankingLogger<RankingLogs.Entry> logger = logger(logged::add, metrics)) {
      RankService service = new RankService(cache, slots, logger, 0.5, metrics);
      // every fallback cause exported at 0 before the first (increase() starts from the first
      // sample: a counter first seen at 1 hides that fallback from the alert)
      for (String cause :
          List.of(
              "no_model",
              "model_error",
              "redis_unavailable",
              "redis_circuit_open",
              "bad_features")) {
        assertThat(metrics.get("ranker.fallbacks").tag("cause", cause).counters())
            .as(cause)
            .hasSize(2) // production and staging
            .allSatisfy(c -> assertThat(c.count()).isZero());
      }
      long user = users.get(0);
      long[] ids = ids(40, 3);
      long at = fixture.end.toEpochMilli();
      RankRequest req = new RankRequest("r1", user, ids, Device.MOBILE, at, 10);

      RankResult none = service.rank(req);
      assertThat(none.fallbackReason()).isEqualTo("no_model");
      assertThat(none.variant()).isEqualTo("fallback");
      assertThat(none.itemIds()).hasSize(10);
      assertDescending(none.scores());
      // popularity from the fixture's own item states, decayed to the request time:
      // p = ctr_7d · ln(1 + impressions_1d), score p / (1 + p), the top 10 by it
      int ctr7d = io.feedrank.features.FeatureSchema.ITEM.indexOf("i_ctr_7d");
      int impressions1d = io.feedrank.features.FeatureSchema.ITEM.indexOf("i_impressions_1d");
      Map<Long, Double> popularity = new HashMap<>();
      for (long id : ids) {
        double[] f = fixture.items.get(id).features(at, fixture.metadata.get(id));
        double p = f[ctr7d] * Math.log1p(f[impressions1d]);
        popularity.put(id, p / (1 + p));
      }
      List<Long> byPopularity =
          popularity.keySet().stream()
              .sorted((a, b) -> Double.compare(popularity.get(b), popularity.get(a)))
              .toList();
      for (int k = 0; k < 10; k++) {
        assertThat(none.itemIds()[k]).as("rank " + k).isEqualTo(byPopularity.get(k));
        assertThat((double) none.scores()[k])
            .isCloseTo(popularity.get(byPopularity.get(k)), within(1e-6));
      }

      slots.install(
          ModelSlots.Variant.PRODUCTION,
          new ServingModel("m", "v9", "mlp", 1, Instant.now(), MlpScorer.load(m.onnx(), 1)));
      RankResult r = service.rank(req);
      assertThat(r.fallback()).isFalse();
      assertThat(r.modelVersion()).isEqualTo("v9");
      double[] direct = m.scoreDirect(fixture, user, ids, at, Device.MOBILE);
      Integer[] order = new Integer[ids.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> Double.compare(direct[b], direct[a]));
      for (int k = 0; k < 10; k++) {
        assertThat(r.itemIds()[k]).isEqualTo(ids[order[k]]);
        assertThat((double) r.scores()[k]).isCloseTo(direct[order[k]], within(1e-6));
      }

      // a model whose output holds a NaN (weights gone bad) has failed: popularity ranks
      MlpScorer real = MlpScorer.load(m.onnx(), 1);
      Scorer broken =
          new Scorer() {
            @Override
            public float[] score(Batch batch) {
              float[] s = real.score(batch);
              s[3] = Float.NaN;
              return s;
            }

            @Override
            public void close() {
              real.close();
            }
          };
      slots.install(
          ModelSlots.Variant.PRODUCTION,
          new ServingModel("m", "v10", "mlp", 1, Instant.now(), broken));
      RankResult nan = service.rank(req);
      assertThat(nan.fallbackReason()).isEqualTo("model_error");
      assertThat(nan.variant()).isEqualTo("fallback");
      assertThat(nan.itemIds()).containsExactly(none.itemIds());
      assertThat(nan.scores()).containsExactly(none.scores());
      assertThat(
              metrics
                  .counter("ranker.fallbacks", "cause", "model_error", "variant", "production")
                  .count())
          .isEqualTo(1);
      slots.clear();
    }
    assertThat(logged).hasSize(3); // closing the logger builds what it holds
    assertThat(logged.get(1).getItems()).hasSize(10);
  }

  /**
   * A model that fails every request is said once a minute, the first at once, with the failure's
   * stack trace; every request is counted as a {@code model_error} fallback. It was a line per
   * request (a thousand a second at load), with the exception's text and no stack trace.
   */
  @Test
  void aModelFailingEveryRequestIsSaidOnceWithItsStackTraceAndEveryFallbackCounted()
      throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    CachingFeatureStore cache = cache(fixtureStore(), metrics);
    ModelSlots slots = new ModelSlots(0);
    slots.install(
        ModelSlots.Variant.PRODUCTION,
        new ServingModel(
            "m",
            "v11",
            "mlp",
            1,
            Instant.now(),
            new Scorer() {
              @Override
              public float[] score(Batch batch) {
                throw new ModelException("ORT_RUNTIME_EXCEPTION: test");
              }

              @Override
              public void close() {}
            }));
    Logger log = (Logger) LoggerFactory.getLogger(RankService.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    int requests = 50;
    try (cache;
        RankingLogger<RankingLogs.Entry> logger = logger(r -> {}, metrics)) {
      RankService service = new RankService(cache, slots, logger, 0, metrics);
      RankRequest req =
          new RankRequest(
              "r1", users.get(0), ids(40, 3), Device.MOBILE, fixture.end.toEpochMilli(), 10);
      for (int i = 0; i < requests; i++) {
        assertThat(service.rank(req).fallbackReason()).isEqualTo("model_error");
      }
      slots.clear();
    } finally {
      log.detachAppender(lines);
    }
    assertThat(
            metrics
                .counter("ranker.fallbacks", "cause", "model_error", "variant", "production")
                .count())
        .isEqualTo(requests);
    assertThat(lines.list)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getFormattedMessage())
                  .startsWith("ranker: 1 request(s) ranked by popularity since the last such line")
                  .contains("model v11: io.feedrank.ranker.scoring.ModelException");
              assertThat(e.getThrowableProxy().getClassName())
                  .isEqualTo(ModelException.class.getName());
            });
  }

  @Test
  void theServiceScoresCoveredTwoTowerCandidatesWithoutLookingUpTheirFeaturesAndStillLogsThem()
      throws Exception {
    TestModels.TwoTower t = TestModels.twoTower(12);
    TestModels.Mlp full = new TestModels.Mlp(t.full());
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    FeatureStore store = fixtureStore();
    Duration fresh = Duration.ofMinutes(5); // no entry turns stale during the test
    CachingFeatureStore cache =
        new CachingFeatureStore(
            store,
            1000,
            new CachingFeatureStore.Ttls(fresh, fresh, fresh, fresh),
            CachingFeatureStore.breakerConfig(50, Duration.ofSeconds(1), Duration.ofSeconds(1)),
            metrics,
            System::nanoTime);
    ModelSlots slots = new ModelSlots(0);
    slots.install(
        ModelSlots.Variant.PRODUCTION,
        new ServingModel(
            "m",
            "tt1",
            "two_tower",
            1,
            Instant.now(),
            TwoTowerScorer.load(
                t.userTower(), t.itemTower(), 1, 10_000, Duration.ofMinutes(10), fresh)));
    long user = users.get(9);
    long[] ids = ids(60, 13);
    // dated now, as the server's clock is: the item vectors are held for such requests only
    long at = System.currentTimeMillis();
    double[] direct = full.scoreDirect(fixture, user, ids, at, Device.MOBILE);
    List<io.feedrank.events.RankingLog> logged = new CopyOnWriteArrayList<>();
    // the cache's background refresh thread stops with it
    try (cache;
        RankingLogger<RankingLogs.Entry> logger = logger(logged::add, metrics)) {
      RankRequest req = new RankRequest("r1", user, ids, Device.MOBILE, at, ids.length);
      RankService unsampled = new RankService(cache, slots, logger, 0, metrics);
      for (int pass = 0; pass < 2; pass++) {
        double looked = metrics.counter("ranker.feature.cache", "result", "hit").count();
        looked += metrics.counter("ranker.feature.cache", "result", "miss").count();
        RankResult r = unsampled.rank(req);
        double after = metrics.counter("ranker.feature.cache", "result", "hit").count();
        after += metrics.counter("ranker.feature.cache", "result", "miss").count();
        // first pass: the user and every item; second: the user alone, the items all covered
        assertThat(after - looked).as("pass %d", pass).isEqualTo(pass == 0 ? 61 : 1);
        assertThat(r.fallback()).isFalse();
        assertThat(r.modelVersion()).isEqualTo("tt1");
        for (int k = 0; k < ids.length; k++) {
          int i = indexOf(ids, r.itemIds()[k]);
          assertThat((double) r.scores()[k]).isCloseTo(direct[i], within(1e-5));
        }
      }
      // every row sampled: the rows, covered, are logged with the vectors the vectorizer builds
      // from their features, looked up for the log (from the cache, without the user again)
      new RankService(cache, slots, logger, 1.0, metrics).rank(req);
      slots.clear();
    }
    assertThat(logged).hasSize(3);
    io.feedrank.events.RankingLog log = logged.get(2);
    assertThat(log.getSampledFeatures()).hasSize(ids.length);
    ServingFeatures sf = new ServingFeatures(user, fixture.userHash(user), at, Device.MOBILE);
    for (io.feedrank.events.SampledFeatureVector v : log.getSampledFeatures()) {
      io.feedrank.features.vector.ModelRow row =
          sf.row(v.getItemId(), fixture.itemHash(v.getItemId()), 1, 1);
      List<Float> want = new ArrayList<>();
      for (float[] part : new float[][] {row.user, row.item, row.cross, row.context}) {
        for (float x : part) {
          want.add(x);
        }
      }
      assertThat(v.getValues()).as("item %d", v.getItemId()).isEqualTo(want);
    }
  }

  /** A feature store serving the fixture's hashes, as Redis would after {@code writeTo}. */
  private static FeatureStore fixtureStore() {
    return new FeatureStore() {
      @Override
      @SuppressWarnings("unchecked")
      public Fetched fetch(long[] userIds, long[] ids) {
        Map<String, String>[] h = new Map[ids.length];
        for (int i = 0; i < ids.length; i++) {
          h[i] = fixture.itemHash(ids[i]);
        }
        Map<String, String>[] u = new Map[userIds.length];
        for (int i = 0; i < userIds.length; i++) {
          u[i] = fixture.userHash(userIds[i]);
        }
        return new Fetched(u, h);
      }
    };
  }

  private static int indexOf(long[] ids, long id) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == id) {
        return i;
      }
    }
    throw new AssertionError(id + " not a candidate");
  }

  @Test
  void modelsOfAnotherContractAreRefusedOnLoad() {
    assertThatThrownBy(() -> MlpScorer.load("garbage".getBytes(), 1))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("not a loadable ONNX model");
    TestModels.TwoTower t = TestModels.twoTower(1);
    assertThatThrownBy(() -> MlpScorer.load(t.userTower(), 1))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("no output 'score'");
    assertThatThrownBy(
            () -> MlpScorer.load(TestModels.mlp(1).withPerRequest("user,item").onnx(), 1))
        .isInstanceOf(ModelException.class)
        .hasMessage(
            "feedrank.per_request_inputs lists 'item', which is not one of [user, context,"
                + " user_id]");
  }

  static void assertDescending(float[] s) {
    for (int i = 1; i < s.length; i++) {
      assertThat(s[i]).isLessThanOrEqualTo(s[i - 1]);
    }
  }
}
