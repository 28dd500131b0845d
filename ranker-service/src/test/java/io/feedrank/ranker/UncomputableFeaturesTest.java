package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.decay.HalfLife;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ModelRow;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.features.Parsed;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.MlpScorer;
import io.feedrank.ranker.scoring.OnnxModel;
import io.feedrank.ranker.scoring.PopularityScorer;
import io.feedrank.ranker.scoring.TwoTowerScorer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Behind the parse, which refuses the feature hashes we know features cannot be computed from: a
 * parsed state whose features throw after all costs its row, or the user, their features, not the
 * request a 500. The states come from the state-store bytes, which are not checked, with one
 * counter set to what the parse refuses in a hash.
 */
class UncomputableFeaturesTest {
  static FeatureFixture fixture;
  static List<Long> users;
  static List<Long> items;

  @BeforeAll
  static void features() {
    fixture = new FeatureFixture(6, 60, 300, 4_000);
    users = new ArrayList<>(fixture.users.keySet());
    items = new ArrayList<>(fixture.items.keySet());
  }

  /** State bytes with the 7-day click count set to {@code clicks} (after the codec and _ts). */
  static byte[] withClicks7d(byte[] stateBytes, double clicks) {
    int slot = FeatureSchema.Engagement.CLICKS.slot(HalfLife.SEVEN_DAYS);
    ByteBuffer.wrap(stateBytes).putDouble(1 + 8 + 8 * slot, clicks);
    return stateBytes;
  }

  static Parsed.Item[] parsed(long[] ids) {
    Parsed.Item[] p = new Parsed.Item[ids.length];
    for (int i = 0; i < ids.length; i++) {
      p[i] = Parsed.Item.of(ids[i], fixture.itemHash(ids[i]));
    }
    return p;
  }

  static long[] ids(int n) {
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = items.get(i * 5);
    }
    return ids;
  }

  /**
   * A candidate whose 7-day clicks are -1: its features threw out of the model's call, then out of
   * the popularity fallback, which reads the same rows, and out of the ranking log's sampled rows.
   * Each now reads default item and cross groups for it, those of an unknown item for an unknown
   * user, and the other rows as they are; the batch counts the row, for the service to answer
   * {@code bad_features}.
   */
  @Test
  void aCandidateWhoseFeaturesCannotBeComputedGetsDefaultGroupsEverywhereItsRowIsRead()
      throws Exception {
    long at = fixture.end.toEpochMilli() + 60_000;
    long user = users.get(3);
    long[] ids = ids(30);
    int bad = 4;
    Parsed.Item[] p = parsed(ids);
    ItemState broken = ItemState.fromBytes(withClicks7d(fixture.items.get(ids[bad]).toBytes(), -1));
    p[bad] = new Parsed.Item(broken, p[bad].metadata(), p[bad].ts(), false, p[bad].fingerprint());
    ServingFeatures sf = new ServingFeatures(user, fixture.userHash(user), at, Device.MOBILE);
    // the vectorizer's row for an unknown item of an unknown user, from empty hashes
    ModelRow unknown = new ServingFeatures(0, Map.of(), at, Device.MOBILE).row(0, Map.of(), 1, 1);

    // popularity: p = ctr_7d · ln(1 + impressions_1d), 0.1 · ln 1 = 0 for an unknown item
    float[] good = new PopularityScorer().score(Batch.of(sf, ids, parsed(ids)));
    Batch b = Batch.of(sf, ids, p); // this thread's batch again, begun anew
    float[] popular = new PopularityScorer().score(b);
    for (int i = 0; i < ids.length; i++) {
      assertThat(popular[i]).as("row %d", i).isEqualTo(i == bad ? 0f : good[i]);
    }
    assertThat(b.defaultedRows()).isEqualTo(1);

    // the sampled rows of the ranking log: every row, read one at a time
    b = Batch.of(sf, ids, p);
    RankRequest req = new RankRequest("r", user, ids, Device.MOBILE, at, 10);
    RankResult result = new RankResult("r", user, "m", "v", "production", ids, popular, 1.0, null);
    RankingLogs.Entry logged = RankingLogs.entry(req, result, "production", "m", "v", b, 1.0);
    assertThat(logged.sampledIds()).containsExactly(ids);
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    for (int i = 0; i < ids.length; i++) {
      ModelRow want = i == bad ? unknown : sf.row(ids[i], fixture.itemHash(ids[i]), 1, 1);
      float[] row = logged.sampled()[i];
      int off = Vectorizer.USER_WIDTH;
      assertThat(Arrays.copyOfRange(row, off, off + item.length))
          .as("row %d", i)
          .containsExactly(want.item);
      off += item.length;
      assertThat(Arrays.copyOfRange(row, off, off + cross.length))
          .as("row %d", i)
          .containsExactly(want.cross);
    }

    // the model: its tensors hold the default groups in that row, the other rows score as
    // ONNX Runtime does on the vectorizer's rows
    TestModels.Mlp model = TestModels.mlp(8);
    try (MlpScorer scorer = MlpScorer.load(model.onnx(), 1)) {
      b = Batch.of(sf, ids, p);
      float[] got = scorer.score(b);
      double[] want = model.scoreDirect(fixture, user, ids, at, Device.MOBILE);
      for (int i = 0; i < ids.length; i++) {
        if (i != bad) {
          assertThat((double) got[i]).as("row %d", i).isCloseTo(want[i], within(1e-6));
        }
      }
      assertThat(Float.isFinite(got[bad])).isTrue();
      b.rowVectors(bad, item, cross);
      assertThat(item).containsExactly(unknown.item);
      assertThat(cross).containsExactly(unknown.cross);
      assertThat(b.defaultedRows()).isEqualTo(1);
    }

    // a two-tower model: the item tower reads the rows in a subset batch, counted in the request's
    TestModels.TwoTower t = TestModels.twoTower(5);
    try (TwoTowerScorer towers =
        new TwoTowerScorer(
            OnnxModel.load(t.userTower(), "user_vec", 1),
            OnnxModel.load(t.itemTower(), "item_vec", 1),
            1_000,
            Duration.ofMinutes(1),
            Duration.ofSeconds(5),
            () -> 0L,
            () -> at)) {
      b = Batch.of(sf, ids, p);
      float[] got = towers.score(b);
      double[] want =
          new TestModels.Mlp(t.full()).scoreDirect(fixture, user, ids, at, Device.MOBILE);
      for (int i = 0; i < ids.length; i++) {
        if (i != bad) {
          assertThat((double) got[i]).as("row %d", i).isCloseTo(want[i], within(1e-5));
        }
      }
      assertThat(Float.isFinite(got[bad])).isTrue();
      assertThat(b.defaultedRows()).isEqualTo(1);
    }
  }

  /**
   * A user whose 7-day clicks are -1 cannot have features: they threw before the model's call. Now
   * the request's user features are null, for the service to serve an unknown user's. One whose
   * 7-day clicks are far above their impressions has user features, but the prior of every category
   * they have seen is above 1: the cross group of each candidate of one threw. Now those rows get
   * default groups.
   */
  @Test
  void aUserWhoseFeaturesCannotBeComputedCostsTheirFeaturesNotTheRequest() {
    long at = fixture.end.toEpochMilli() + 60_000;
    long user = users.get(5);
    long[] ids = ids(12);
    RankRequest req = new RankRequest("r", user, ids, Device.DESKTOP, at, 10);
    UserState negative = UserState.fromBytes(withClicks7d(fixture.users.get(user).toBytes(), -1));
    assertThat(RankService.userFeatures(req, new Parsed.User(negative, null, "", false, 1)))
        .isNull();
    ServingFeatures defaults = RankService.userFeatures(req, Parsed.User.UNKNOWN);
    assertThat(defaults.userVector())
        .containsExactly(new ServingFeatures(user, Map.of(), at, Device.DESKTOP).userVector());

    UserState tooMany = UserState.fromBytes(withClicks7d(fixture.users.get(user).toBytes(), 1e6));
    ServingFeatures sf =
        RankService.userFeatures(req, new Parsed.User(tooMany, null, "", false, 1));
    assertThat(sf).isNotNull();
    // candidates of the categories the user has seen (of the others, the cross group is the
    // prior itself, 7-day clicks over impressions: above 1, but it computes)
    Map<String, String> hash = fixture.userHash(user);
    long[] seen =
        items.stream()
            .filter(id -> fixture.metadata.containsKey(id))
            .filter(id -> hash.containsKey("c." + fixture.metadata.get(id).getCategory() + "._ts"))
            .limit(12)
            .mapToLong(Long::longValue)
            .toArray();
    assertThat(seen).hasSize(12);
    Batch b = Batch.of(sf, seen, parsed(seen));
    assertThat(new PopularityScorer().score(b)).containsOnly(0f);
    assertThat(b.defaultedRows()).isEqualTo(seen.length);
  }
}
