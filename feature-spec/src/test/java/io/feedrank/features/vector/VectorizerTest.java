package io.feedrank.features.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VectorizerTest {
  static final long HOUR = 3_600_000L;
  static final long T0 = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();

  @Test
  void unitScaleFeaturesPassThroughAndCountsAreLogScaled() {
    Set<String> identity =
        Set.of(
            "u_ctr_1h",
            "u_ctr_1d",
            "u_ctr_7d",
            "u_device_mobile",
            "u_device_desktop",
            "u_device_tablet",
            "u_device_unknown",
            "u_hours_00_04",
            "u_hours_04_08",
            "u_hours_08_12",
            "u_hours_12_16",
            "u_hours_16_20",
            "u_hours_20_24");
    double[] raw = new double[FeatureSchema.USER.size()];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = 3.5 + i;
    }
    raw[FeatureSchema.USER.indexOf("u_account_age_days")] = -1.0;
    float[] out = new float[Vectorizer.USER_WIDTH + 2];
    Vectorizer.user(raw, out, 2);
    for (int i = 0; i < raw.length; i++) {
      String name = FeatureSchema.USER.get(i);
      double expected =
          identity.contains(name) ? raw[i] : Math.signum(raw[i]) * Math.log(1 + Math.abs(raw[i]));
      assertThat((double) out[2 + i]).as(name).isCloseTo(expected, within(1e-6));
    }
    assertThat(out[0]).isZero();
    assertThat(Vectorizer.Transform.forNames(FeatureSchema.ITEM))
        .filteredOn(t -> t == Vectorizer.Transform.IDENTITY)
        .hasSize(5); // i_ctr_1h/1d/7d, i_like_rate_7d, i_share_rate_7d
    assertThat(Vectorizer.Transform.forNames(FeatureSchema.CROSS))
        .containsExactly(
            Vectorizer.Transform.SIGNED_LOG1P,
            Vectorizer.Transform.SIGNED_LOG1P,
            Vectorizer.Transform.SIGNED_LOG1P,
            Vectorizer.Transform.SIGNED_LOG1P,
            Vectorizer.Transform.IDENTITY,
            Vectorizer.Transform.IDENTITY,
            Vectorizer.Transform.SIGNED_LOG1P);
  }

  @Test
  void log1pIsFdlibmsWithinTwoUlpsAndTheSameFloat() {
    // the reference is StrictMath.log1p (fdlibm), which the vectorizer used before
    Random r = new Random(11);
    int floatsDiffering = 0;
    int n = 1_000_000;
    for (int i = 0; i < n; i++) {
      // counts (integers), decayed counts and seconds: 1e-12 to 1e15, log-uniform
      double x = i % 4 == 0 ? r.nextInt(100_000) : Math.pow(10, -12 + 27 * r.nextDouble());
      double want = StrictMath.log1p(x);
      double got = Vectorizer.Transform.log1p(x);
      assertThat(Math.abs(got - want)).as("x = %s", x).isLessThanOrEqualTo(2 * Math.ulp(want));
      floatsDiffering += (float) got == (float) want ? 0 : 1;
    }
    assertThat(floatsDiffering).isLessThanOrEqualTo(n / 100_000);
    assertThat(Vectorizer.Transform.log1p(0)).isZero();
    assertThat(Vectorizer.Transform.log1p(1e-300)).isEqualTo(1e-300);
    assertThat(Vectorizer.Transform.log1p(Double.MAX_VALUE)).isEqualTo(Math.log(Double.MAX_VALUE));
    assertThat(Vectorizer.Transform.log1p(Double.POSITIVE_INFINITY)).isInfinite();
    assertThat(Vectorizer.Transform.log1p(Double.NaN)).isNaN();
    assertThat(Vectorizer.Transform.SIGNED_LOG1P.apply(-3.0)).isEqualTo(-Math.log(4.0));
  }

  @Test
  void contextIsTheHourAndWeekdayOnACircleAndADeviceOneHot() {
    float[] c = new float[Vectorizer.CONTEXT_WIDTH];
    Vectorizer.context(6, 1, Device.TABLET, c, 0);
    assertThat((double) c[0]).isCloseTo(1.0, within(1e-7)); // sin(2π·6/24)
    assertThat((double) c[1]).isCloseTo(0.0, within(1e-7));
    assertThat((double) c[2]).isCloseTo(0.0, within(1e-7)); // Monday = angle 0
    assertThat((double) c[3]).isCloseTo(1.0, within(1e-7));
    assertThat(Arrays.copyOfRange(c, 4, 8)).containsExactly(0f, 0f, 1f, 0f);
    Vectorizer.context(18, 4, Device.MOBILE, c, 0);
    assertThat((double) c[0]).isCloseTo(-1.0, within(1e-7));
    assertThat((double) c[2]).isCloseTo(Math.sin(2 * Math.PI * 3 / 7), within(1e-7));
    assertThat(Arrays.copyOfRange(c, 4, 8)).containsExactly(1f, 0f, 0f, 0f);
    assertThatThrownBy(() -> Vectorizer.context(24, 1, Device.MOBILE, c, 0))
        .hasMessageContaining("hour_of_day");
    assertThatThrownBy(() -> Vectorizer.context(1, 0, Device.MOBILE, c, 0))
        .hasMessageContaining("day_of_week");
  }

  @Test
  void bucketsAreInRangeDeterministicAndEven() {
    int buckets = 10;
    int[] counts = new int[buckets];
    for (long id = 0; id < 10_000; id++) {
      long b = Vectorizer.bucket(id, buckets);
      assertThat(b).isBetween(0L, 9L);
      counts[(int) b]++;
    }
    assertThat(Vectorizer.bucket(-5, 7)).isBetween(0L, 6L);
    // pinned: a model's ID embeddings were trained on these buckets, so the hash must never
    // change. bucket(0, n) is SplitMix64's published first output for seed 0, 0xE220A8397B1DCDAF,
    // floor-mod n; the others from a Python transcription of SplitMix64's mix over id + 0x9E37…15
    assertThat(Vectorizer.bucket(0, 1000)).isEqualTo(Math.floorMod(0xE220A8397B1DCDAFL, 1000L));
    assertThat(Vectorizer.bucket(0, 1000)).isEqualTo(919L);
    assertThat(Vectorizer.bucket(123, 1000)).isEqualTo(59L);
    assertThat(Vectorizer.bucket(123, 20_000)).isEqualTo(6_059L);
    assertThat(Vectorizer.bucket(-5, 7)).isEqualTo(5L);
    // chi-square with 9 degrees of freedom: 27.88 is the 0.999 quantile
    double chi2 = 0;
    for (int c : counts) {
      chi2 += (c - 1000.0) * (c - 1000.0) / 1000.0;
    }
    assertThat(chi2).isLessThan(27.88);
  }

  /**
   * The ranker builds its rows from the Redis hashes at request time; the trainer from the training
   * example the streams app emitted for an impression at that time. Same numbers.
   */
  @Test
  void servingRowFromRedisHashesEqualsTheTrainingRowOfTheSameMoment() {
    Random r = new Random(42);
    UserState user = new UserState();
    ItemState item = new ItemState();
    ItemMetadata meta =
        ItemMetadata.newBuilder()
            .setItemId(77)
            .setCategory("sports")
            .setCreatedAt(Instant.ofEpochMilli(T0 - 3 * 24 * HOUR))
            .setContentLength(240)
            .build();
    UserProfile profile =
        UserProfile.newBuilder()
            .setUserId(5)
            .setCountry("DE")
            .setPrimaryDevice(Device.MOBILE)
            .setCreatedAt(Instant.ofEpochMilli(T0 - 40 * 24 * HOUR))
            .build();
    long t = T0;
    List<String> categories = List.of("sports", "news", "music");
    for (int i = 0; i < 300; i++) {
      t += (long) (r.nextDouble() * HOUR);
      InteractionEvent e =
          InteractionEvent.newBuilder()
              .setInteractionId("e" + i)
              .setUserId(5)
              .setItemId(i % 3 == 0 ? 77 : 1000 + i)
              .setEventTime(Instant.ofEpochMilli(t))
              .setClick(r.nextInt(5) == 0)
              .setLike(r.nextInt(20) == 0)
              .setShare(r.nextInt(50) == 0)
              .setDwellSeconds(r.nextFloat() * 60)
              .setDevice(Device.values()[r.nextInt(4)])
              .build();
      user.add(e, categories.get(i % 3));
      if (e.getItemId() == 77) {
        item.add(e);
      }
    }
    long at = t + 5 * HOUR + 17_000;
    ZonedDateTime z = Instant.ofEpochMilli(at).atZone(ZoneOffset.UTC);
    TrainingExample example =
        TrainingExample.newBuilder()
            .setInteractionId("x")
            .setUserId(5)
            .setItemId(77)
            .setEventTime(Instant.ofEpochMilli(at))
            .setDevice(Device.DESKTOP)
            .setItemCategory("sports")
            .setHourOfDay(z.getHour())
            .setDayOfWeek(z.getDayOfWeek().getValue())
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setUserFeatures(boxed(user.features(at, profile)))
            .setItemFeatures(boxed(item.features(at, meta)))
            .setCrossFeatures(boxed(user.crossFeatures("sports", at)))
            .setClick(true)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(3f)
            .build();
    ModelRow training = Vectorizer.row(example, 1000, 500);

    Map<String, String> userHash = new HashMap<>(user.toHash(Long.MIN_VALUE, profile));
    Map<String, String> itemHash = new HashMap<>(item.toHash(meta));
    ModelRow serving =
        new ServingFeatures(5, userHash, at, Device.DESKTOP).row(77, itemHash, 1000, 500);

    assertThat(serving.user).containsExactly(training.user);
    assertThat(serving.item).containsExactly(training.item);
    assertThat(serving.cross).containsExactly(training.cross);
    assertThat(serving.context).containsExactly(training.context);
    assertThat(serving.userBucket).isEqualTo(training.userBucket);
    assertThat(serving.itemBucket).isEqualTo(training.itemBucket);
    assertThat(training.cross[0]).isGreaterThan(0f); // the category history is really there
  }

  /**
   * A request's {@link ServingFeatures} reuses scratch arrays and keeps the cross group of each
   * category it met: every candidate, in any order, still gets the groups computed for it alone.
   */
  @Test
  void oneRequestsRowsEqualEachCandidateVectorizedOnItsOwn() {
    Random r = new Random(7);
    List<String> categories = List.of("sports", "news", "music", "food");
    UserState user = new UserState();
    long t = T0;
    for (int i = 0; i < 200; i++) {
      t += (long) (r.nextDouble() * HOUR);
      user.add(event(r, "u" + i, 5, 1000 + r.nextInt(50), t), categories.get(r.nextInt(3)));
    }
    long at = t + 2 * HOUR + 123;
    ServingFeatures request = new ServingFeatures(5, user, null, at, Device.MOBILE);
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    for (int c = 0; c < 60; c++) {
      ItemState state = new ItemState();
      long ts = T0 + (long) (r.nextDouble() * 10 * HOUR);
      for (int k = r.nextInt(30); k > 0; k--) {
        ts += (long) (r.nextDouble() * HOUR);
        state.add(event(r, "i" + c + "-" + k, 9, 1000 + c, ts));
      }
      // "food": a category the user never saw; null: an item without metadata
      String category = c % 7 == 6 ? null : categories.get(r.nextInt(categories.size()));
      ItemMetadata meta =
          category == null
              ? null
              : ItemMetadata.newBuilder()
                  .setItemId(1000 + c)
                  .setCategory(category)
                  .setCreatedAt(Instant.ofEpochMilli(T0 - c * HOUR))
                  .setContentLength(100 + c)
                  .build();
      Arrays.fill(item, Float.NaN);
      Arrays.fill(cross, Float.NaN);
      request.item(state, meta, item, 0, cross, 0);

      float[] expectedItem = new float[Vectorizer.ITEM_WIDTH];
      Vectorizer.item(state.features(at, meta), expectedItem, 0);
      float[] expectedCross = new float[Vectorizer.CROSS_WIDTH];
      Vectorizer.cross(user.crossFeatures(category, at), expectedCross, 0);
      assertThat(item).as("candidate %d", c).containsExactly(expectedItem);
      assertThat(cross).as("candidate %d (%s)", c, category).containsExactly(expectedCross);
    }
  }

  private static InteractionEvent event(Random r, String id, long user, long item, long t) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(item)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(r.nextInt(4) == 0)
        .setLike(r.nextInt(10) == 0)
        .setShare(r.nextInt(30) == 0)
        .setDwellSeconds(r.nextFloat() * 60)
        .setDevice(Device.values()[r.nextInt(4)])
        .build();
  }

  @Test
  void unknownUsersAndItemsGetDefaultFeatures() {
    ServingFeatures f = new ServingFeatures(9, Map.of(), T0, Device.UNKNOWN);
    ModelRow row = f.row(3, null, 10, 10);
    float[] expectedUser = new float[Vectorizer.USER_WIDTH];
    Vectorizer.user(new UserState().features(T0), expectedUser, 0);
    assertThat(row.user).containsExactly(expectedUser);
    float[] expectedItem = new float[Vectorizer.ITEM_WIDTH];
    Vectorizer.item(new ItemState().features(T0, null), expectedItem, 0);
    assertThat(row.item).containsExactly(expectedItem);
    // unknown category: the cross group falls back to the prior CTR and "never"
    assertThat((double) row.cross[4]).isCloseTo(FeatureSchema.CTR_PRIOR, within(1e-6));
    assertThat((double) row.cross[6]).isCloseTo(Math.log1p(FeatureSchema.NEVER), within(1e-5));
  }

  @Test
  void refusesExamplesOfAnotherSchemaOrWidth() {
    TrainingExample.Builder b =
        TrainingExample.newBuilder()
            .setInteractionId("x")
            .setUserId(1)
            .setItemId(2)
            .setEventTime(Instant.ofEpochMilli(T0))
            .setHourOfDay(0)
            .setDayOfWeek(1)
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setUserFeatures(boxed(new double[Vectorizer.USER_WIDTH]))
            .setItemFeatures(boxed(new double[Vectorizer.ITEM_WIDTH - 1]))
            .setCrossFeatures(boxed(new double[Vectorizer.CROSS_WIDTH]))
            .setClick(false)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(0f);
    assertThatThrownBy(() -> Vectorizer.row(b.build(), 10, 10))
        .hasMessageContaining("item_features has 23 values, schema expects 24");
    b.setFeatureSchemaVersion(99);
    assertThatThrownBy(() -> Vectorizer.row(b.build(), 10, 10)).hasMessageContaining("version 99");
  }

  static List<Double> boxed(double[] a) {
    List<Double> l = new ArrayList<>(a.length);
    for (double d : a) {
      l.add(d);
    }
    return l;
  }
}
