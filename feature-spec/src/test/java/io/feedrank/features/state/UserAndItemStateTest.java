package io.feedrank.features.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.features.FeatureSchema;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UserAndItemStateTest {
  static final long HOUR = 3_600_000L;
  static final long DAY = 24 * HOUR;
  static final long T0 = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();

  static InteractionEvent event(long t, boolean click, boolean like, float dwell, Device d) {
    return InteractionEvent.newBuilder()
        .setInteractionId("e" + t)
        .setUserId(1)
        .setItemId(2)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(click)
        .setLike(like)
        .setShare(false)
        .setDwellSeconds(dwell)
        .setDevice(d)
        .build();
  }

  static List<InteractionEvent> randomEvents(int n, long seed) {
    Random r = new Random(seed);
    List<InteractionEvent> out = new ArrayList<>();
    long t = T0;
    for (int i = 0; i < n; i++) {
      t += (long) (r.nextDouble() * 2 * HOUR);
      out.add(
          event(
              t,
              r.nextInt(4) == 0,
              r.nextInt(12) == 0,
              r.nextFloat() * 90,
              Device.values()[r.nextInt(4)]));
    }
    return out;
  }

  /** Σ x_i 2^(-(T - t_i)/h), the definition. */
  static double decayed(
      List<InteractionEvent> events,
      long at,
      long h,
      java.util.function.ToDoubleFunction<InteractionEvent> x) {
    double s = 0;
    for (InteractionEvent e : events) {
      s += x.applyAsDouble(e) * Math.pow(2, -(double) (at - e.getEventTime().toEpochMilli()) / h);
    }
    return s;
  }

  static int idx(String name) {
    int i = FeatureSchema.USER.indexOf(name);
    return i >= 0 ? i : FeatureSchema.ITEM.indexOf(name);
  }

  @Test
  void userFeaturesEqualTheClosedFormWhateverTheArrivalOrder() {
    List<InteractionEvent> events = randomEvents(400, 1);
    long at = events.get(events.size() - 1).getEventTime().toEpochMilli() + 3 * HOUR;
    List<InteractionEvent> shuffled = new ArrayList<>(events);
    Collections.shuffle(shuffled, new Random(2));
    for (List<InteractionEvent> order : List.of(events, shuffled)) {
      UserState u = new UserState();
      order.forEach(e -> u.add(e, "sports"));
      double[] f = u.features(at);
      double clicks1d = decayed(events, at, DAY, e -> e.getClick() ? 1 : 0);
      double imp1d = decayed(events, at, DAY, e -> 1);
      double dwell7d = decayed(events, at, 7 * DAY, InteractionEvent::getDwellSeconds);
      assertThat(f[idx("u_clicks_1d")]).isCloseTo(clicks1d, within(1e-9 * clicks1d));
      assertThat(f[idx("u_impressions_1d")]).isCloseTo(imp1d, within(1e-9 * imp1d));
      assertThat(f[idx("u_dwell_7d")]).isCloseTo(dwell7d, within(1e-9 * dwell7d));
      assertThat(f[idx("u_likes_1h")])
          .isCloseTo(decayed(events, at, HOUR, e -> e.getLike() ? 1 : 0), within(1e-9));
      // smoothed CTR (clicks + 5 * 0.1) / (impressions + 5)
      assertThat(f[idx("u_ctr_1d")]).isCloseTo((clicks1d + 0.5) / (imp1d + 5), within(1e-12));
      assertThat(f[idx("u_lifetime_events")]).isEqualTo(400);
      assertThat(f[idx("u_hours_since_last_seen")]).isCloseTo(3.0, within(1e-12));
      double days = (at - events.get(0).getEventTime().toEpochMilli()) / (double) DAY;
      assertThat(f[idx("u_days_since_first_seen")]).isCloseTo(days, within(1e-12));
      double mobile7d = decayed(events, at, 7 * DAY, e -> e.getDevice() == Device.MOBILE ? 1 : 0);
      assertThat(f[idx("u_device_mobile")])
          .isCloseTo(mobile7d / decayed(events, at, 7 * DAY, e -> 1), within(1e-9));
      double evening =
          decayed(
              events,
              at,
              7 * DAY,
              e -> e.getEventTime().atZone(java.time.ZoneOffset.UTC).getHour() >= 20 ? 1 : 0);
      assertThat(f[idx("u_hours_20_24")])
          .isCloseTo(evening / decayed(events, at, 7 * DAY, e -> 1), within(1e-9));
    }
  }

  @Test
  void crossFeaturesFollowTheCategoryOnly() {
    UserState u = new UserState();
    List<InteractionEvent> sports = new ArrayList<>();
    Random r = new Random(3);
    long t = T0;
    for (int i = 0; i < 100; i++) {
      t += HOUR;
      InteractionEvent e = event(t, r.nextBoolean(), false, 1, Device.MOBILE);
      boolean isSports = i % 3 == 0;
      u.add(e, isSports ? "sports" : "news");
      if (isSports) {
        sports.add(e);
      }
    }
    long at = t + HOUR;
    double[] c = u.crossFeatures("sports", at);
    double clk7 = decayed(sports, at, 7 * DAY, e -> e.getClick() ? 1 : 0);
    double imp7 = decayed(sports, at, 7 * DAY, e -> 1);
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_clicks_7d")]).isCloseTo(clk7, within(1e-9));
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_impressions_1d")])
        .isCloseTo(decayed(sports, at, DAY, e -> 1), within(1e-9));
    double userImp7 = u.features(at)[idx("u_impressions_7d")];
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_attention_share_7d")])
        .isCloseTo(imp7 / userImp7, within(1e-9));
    long lastSportsClick =
        sports.stream()
            .filter(InteractionEvent::getClick)
            .mapToLong(e -> e.getEventTime().toEpochMilli())
            .max()
            .orElseThrow();
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_hours_since_last_click")])
        .isCloseTo((at - lastSportsClick) / (double) HOUR, within(1e-12));
    double[] unseen = u.crossFeatures("music", at);
    assertThat(unseen[0]).isZero();
    assertThat(unseen[FeatureSchema.CROSS.indexOf("uc_hours_since_last_click")])
        .isEqualTo(FeatureSchema.NEVER);
  }

  /**
   * The cross group of an item of no category, from the user's features alone, is the state's own
   * for a null category, bit for bit, at any time: a never seen user, one read between their
   * events, one read long after; its CTR is the smoothed 7-day rate of the closed form.
   */
  @Test
  void theCrossGroupWithoutCategoryFromTheUserFeaturesIsTheStatesOwn() {
    UserState u = new UserState();
    List<InteractionEvent> events = randomEvents(200, 7);
    long last = events.get(events.size() - 1).getEventTime().toEpochMilli();
    List<Long> times = List.of(T0, last + HOUR, last + 40 * DAY);
    for (long at : times) {
      assertThat(UserState.crossFeaturesWithoutCategory(new UserState().features(at)))
          .containsExactly(new UserState().crossFeatures(null, at));
    }
    for (int i = 0; i < events.size(); i++) {
      InteractionEvent e = events.get(i);
      long t = e.getEventTime().toEpochMilli();
      assertThat(UserState.crossFeaturesWithoutCategory(u.features(t)))
          .as("before event %d", i)
          .containsExactly(u.crossFeatures(null, t));
      u.add(e, i % 2 == 0 ? "sports" : "news");
    }
    long at = last + HOUR;
    double[] c = UserState.crossFeaturesWithoutCategory(u.features(at));
    assertThat(c).containsExactly(u.crossFeatures(null, at));
    double clk7 = decayed(events, at, 7 * DAY, e -> e.getClick() ? 1 : 0);
    double imp7 = decayed(events, at, 7 * DAY, e -> 1);
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_ctr_7d")])
        .isCloseTo((clk7 + 0.5) / (imp7 + 5), within(1e-12))
        .isNotEqualTo(FeatureSchema.CTR_PRIOR);
    assertThat(c[FeatureSchema.CROSS.indexOf("uc_hours_since_last_click")])
        .isEqualTo(FeatureSchema.NEVER);
  }

  @Test
  void theProfileGivesTheAccountAgeAndTravelsInTheHash() {
    UserState u = new UserState();
    u.add(event(T0, true, false, 1, Device.MOBILE), "news");
    io.feedrank.events.UserProfile p =
        io.feedrank.events.UserProfile.newBuilder()
            .setUserId(1)
            .setCreatedAt(Instant.ofEpochMilli(T0 - 40 * DAY))
            .setCountry("DE")
            .setPrimaryDevice(Device.TABLET)
            .build();
    assertThat(u.features(T0 + DAY, p)[idx("u_account_age_days")]).isCloseTo(41.0, within(1e-12));
    assertThat(u.features(T0 + DAY)[idx("u_account_age_days")]).isEqualTo(-1.0);
    Map<String, String> h = u.toHash(Long.MIN_VALUE, p);
    assertThat(h).containsEntry("country", "DE").containsEntry("primary_device", "TABLET");
    assertThat(UserState.profileFromHash(1, h)).isEqualTo(p);
    assertThat(UserState.profileFromHash(1, u.toHash())).isNull();

    // the profile alone, before any event: a user never seen, with the account's age
    Map<String, String> alone = UserState.profileHash(p);
    assertThat(alone).doesNotContainKey("_ts");
    assertThat(UserState.fromHash(alone)).isEqualTo(new UserState());
    assertThat(UserState.profileFromHash(1, alone)).isEqualTo(p);
    assertThat(UserState.fromHash(alone).features(T0, p)[idx("u_account_age_days")])
        .isCloseTo(40.0, within(1e-12));
    assertThatThrownBy(() -> UserState.fromHash(Map.of("_v", alone.get("_v"), "country", "DE")))
        .hasMessage("user hash has neither counters (_ts) nor a profile");
  }

  @Test
  void anUnseenEntityHasEmptyFeatures() {
    double[] f = new UserState().features(T0);
    assertThat(f[idx("u_impressions_7d")]).isZero();
    assertThat(f[idx("u_ctr_1h")]).isEqualTo(FeatureSchema.CTR_PRIOR);
    assertThat(f[idx("u_hours_since_last_seen")]).isEqualTo(FeatureSchema.NEVER);
    double[] i = new ItemState().features(T0, null);
    assertThat(i[idx("i_age_days")]).isEqualTo(-1);
    assertThat(i[idx("i_avg_dwell_7d")]).isZero();
  }

  @Test
  void itemFeaturesUseCountersAndMetadata() {
    List<InteractionEvent> events = randomEvents(200, 4);
    ItemState s = new ItemState();
    events.forEach(s::add);
    long at = events.get(events.size() - 1).getEventTime().toEpochMilli();
    ItemMetadata meta =
        ItemMetadata.newBuilder()
            .setItemId(2)
            .setCategory("news")
            .setCreatedAt(Instant.ofEpochMilli(T0 - 10 * DAY))
            .setContentLength(120)
            .build();
    double[] f = s.features(at, meta);
    double imp7 = decayed(events, at, 7 * DAY, e -> 1);
    assertThat(f[idx("i_avg_dwell_7d")])
        .isCloseTo(
            decayed(events, at, 7 * DAY, InteractionEvent::getDwellSeconds) / imp7, within(1e-9));
    assertThat(f[idx("i_like_rate_7d")])
        .isCloseTo(
            (decayed(events, at, 7 * DAY, e -> e.getLike() ? 1 : 0) + 5 * 0.025) / (imp7 + 5),
            within(1e-12));
    assertThat(f[idx("i_age_days")])
        .isCloseTo((at - (T0 - 10 * DAY)) / (double) DAY, within(1e-12));
    assertThat(f[idx("i_content_length")]).isEqualTo(120);
  }

  /**
   * The catalog's metadata alone, as the streams app writes it for an item before its first event:
   * an item never seen, with its real category, age and length.
   */
  @Test
  void aMetadataHashIsAnUnseenItemWithItsMetadata() {
    ItemMetadata meta =
        ItemMetadata.newBuilder()
            .setItemId(9)
            .setCategory("music")
            .setCreatedAt(Instant.ofEpochMilli(T0 - 2 * DAY))
            .setContentLength(300)
            .build();
    Map<String, String> h = ItemState.metadataHash(meta);
    assertThat(h).doesNotContainKey("_ts");
    assertThat(ItemState.fromHash(h)).isEqualTo(new ItemState());
    ItemMetadata read = ItemState.metadataFromHash(9, h);
    assertThat(read).isEqualTo(meta);
    double[] f = ItemState.fromHash(h).features(T0, read);
    assertThat(f[idx("i_age_days")]).isCloseTo(2.0, within(1e-12));
    assertThat(f[idx("i_content_length")]).isEqualTo(300);
    assertThat(f[idx("i_avg_dwell_7d")]).isZero();
    // the same fields an item's full hash carries: an event's write completes the hash
    Map<String, String> full = new ItemState().toHash(meta);
    h.forEach((k, v) -> assertThat(full).containsEntry(k, v));
    // neither counters nor metadata: malformed
    assertThatThrownBy(() -> ItemState.fromHash(Map.of("_v", "1")))
        .hasMessageContaining("neither counters");
  }

  @Test
  void metadataFromHashesReadSeparatelySharesOneCategoryString() {
    Map<String, String> a = new HashMap<>(Map.of("created_at", "1", "category", "sports"));
    Map<String, String> b =
        new HashMap<>(Map.of("created_at", "2", "category", new String("sp" + "orts")));
    ItemMetadata ma = ItemState.metadataFromHash(1, a);
    ItemMetadata mb = ItemState.metadataFromHash(2, b);
    assertThat(b.get("category")).isNotSameAs(a.get("category"));
    assertThat(mb.getCategory()).isEqualTo("sports").isSameAs(ma.getCategory());
    assertThat(mb.getCreatedAt()).isEqualTo(Instant.ofEpochMilli(2));
  }

  @Test
  void redisHashAndBytesRoundTripExactly() {
    UserState u = new UserState();
    ItemState i = new ItemState();
    for (InteractionEvent e : randomEvents(300, 5)) {
      u.add(e, e.getEventTime().toEpochMilli() % 2 == 0 ? "sports" : "news");
      i.add(e);
    }
    assertThat(UserState.fromHash(u.toHash())).isEqualTo(u);
    assertThat(UserState.fromBytes(u.toBytes())).isEqualTo(u);
    assertThat(ItemState.fromHash(i.toHash(null))).isEqualTo(i);
    assertThat(ItemState.fromBytes(i.toBytes())).isEqualTo(i);
    // equality compares the categories in order; what the cross features look them up in too
    long at = T0 + 40 * DAY;
    for (String category : new String[] {"sports", "news", "music"}) {
      double[] want = u.crossFeatures(category, at);
      assertThat(UserState.fromHash(u.toHash()).crossFeatures(category, at)).isEqualTo(want);
      assertThat(UserState.fromBytes(u.toBytes()).crossFeatures(category, at)).isEqualTo(want);
    }
    assertThat(u.crossFeatures("sports", at)).isNotEqualTo(u.crossFeatures("music", at));
    assertThat(u.toHash())
        .containsEntry("_v", "1")
        .containsKeys("_ts", "clicks_1d", "c.sports.clicks_7d", "c.news._ts");
  }

  /**
   * The state bytes keep the layout they had when written through a DataOutputStream (big-endian
   * primitives, writeUTF category names), so stores and changelogs written before still read: here
   * read back with a DataInputStream and compared field by field with the Redis hash.
   */
  @Test
  void userStateBytesAreTheDataOutputLayoutWhateverTheCategoryNames() throws IOException {
    UserState u = new UserState();
    String[] names = {"sports", "música", "日本", "nul\u0000byte", "😀 emoji"};
    List<InteractionEvent> events = randomEvents(200, 9);
    for (int k = 0; k < events.size(); k++) {
      u.add(events.get(k), names[k % names.length]);
    }
    Map<String, String> h = u.toHash();
    byte[] bytes = u.toBytes();
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    assertThat(in.readByte()).isEqualTo((byte) 1);
    assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get("_ts")));
    List<String> plain = new ArrayList<>();
    h.forEach(
        (k, v) -> {
          if (!k.startsWith("c.")
              && !List.of("_v", "_ts", "lifetime_events", "first_seen", "last_seen").contains(k)) {
            plain.add(k);
          }
        });
    List<Double> slots = new ArrayList<>();
    for (int i = 0; i < plain.size(); i++) {
      slots.add(in.readDouble());
    }
    assertThat(slots)
        .containsExactlyInAnyOrderElementsOf(
            plain.stream().map(k -> Double.parseDouble(h.get(k))).toList());
    assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get("lifetime_events")));
    assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get("first_seen")));
    assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get("last_seen")));
    assertThat(in.readInt()).isEqualTo(names.length);
    List<String> read = new ArrayList<>();
    for (int c = 0; c < names.length; c++) {
      String p = "c." + in.readUTF() + ".";
      read.add(p);
      assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get(p + "_ts")));
      for (String field : List.of("impressions_1d", "clicks_1d", "impressions_7d", "clicks_7d")) {
        assertThat(in.readDouble()).isEqualTo(Double.parseDouble(h.get(p + field)));
      }
      assertThat(in.readLong()).isEqualTo(Long.parseLong(h.get(p + "last_click")));
    }
    assertThat(in.available()).isZero();
    assertThat(read)
        .containsExactlyInAnyOrder(
            Arrays.stream(names).map(n -> "c." + n + ".").toArray(String[]::new));
    assertThat(UserState.fromBytes(bytes)).isEqualTo(u);
  }

  @Test
  void truncatedStateBytesAreRefused() {
    UserState u = new UserState();
    ItemState i = new ItemState();
    for (InteractionEvent e : randomEvents(20, 3)) {
      u.add(e, "sports");
      i.add(e);
    }
    byte[] ub = u.toBytes();
    byte[] ib = i.toBytes();
    assertThatThrownBy(() -> UserState.fromBytes(Arrays.copyOf(ub, ub.length - 3)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("corrupt UserState bytes");
    assertThatThrownBy(() -> ItemState.fromBytes(Arrays.copyOf(ib, 30)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("corrupt ItemState bytes");
    ub[0] = 7;
    assertThatThrownBy(() -> UserState.fromBytes(ub)).hasMessageContaining("codec version 7");
  }

  @Test
  void aHashOfAnotherVersionOrWithABadFieldIsRefusedNamingTheField() {
    Map<String, String> h = new HashMap<>(new UserState().toHash());
    h.put("_v", "99");
    assertThatThrownBy(() -> UserState.fromHash(h)).hasMessageContaining("version 99");
    Map<String, String> bad = new HashMap<>(new ItemState().toHash(null));
    bad.put("clicks_1d", "x");
    assertThatThrownBy(() -> ItemState.fromHash(bad)).hasMessageContaining("'clicks_1d'");
    for (String nonFinite : new String[] {"NaN", "Infinity", "-Infinity", "1e999"}) {
      bad.put("clicks_1d", nonFinite);
      assertThatThrownBy(() -> ItemState.fromHash(bad))
          .hasMessageContaining("'clicks_1d' is not a finite number");
      Map<String, String> user = new HashMap<>(new UserState().toHash());
      user.put("clicks_1d", nonFinite);
      assertThatThrownBy(() -> UserState.fromHash(user))
          .hasMessageContaining("'clicks_1d' is not a finite number");
    }
    bad.remove("clicks_1d");
    assertThatThrownBy(() -> ItemState.fromHash(bad))
        .hasMessageContaining("'clicks_1d' is missing");
    // a category field without the category's name (it used to throw an index exception)
    for (String key : new String[] {"c._ts", "c.._ts"}) {
      Map<String, String> odd = new HashMap<>(new UserState().toHash());
      odd.put(key, "1");
      assertThatThrownBy(() -> UserState.fromHash(odd))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + key + "' names no category");
    }
  }

  /**
   * Counters the app cannot have written (a manual edit, another writer, a damaged restore) are
   * refused by the parse, naming the field, rather than read into a state whose features throw: a
   * negative counter fails every smoothed rate computed from it, and a user's 7-day clicks above
   * their impressions by more than the prior's pseudo-clicks make the prior of the category click
   * rate (clicks + 5 · 0.1) / (impressions + 5) above 1. Both answered the ranker's request 500.
   */
  @Test
  void countersTheAppCannotHaveWrittenAreRefusedNamingTheField() {
    UserState u = new UserState();
    ItemState i = new ItemState();
    for (InteractionEvent e : randomEvents(300, 6)) {
      u.add(e, "sports");
      i.add(e);
    }
    Map<String, String> user = u.toHash();
    Map<String, String> item = i.toHash(null);
    // 1000 clicks: a prior of (1000 + 0.5) / (impressions_7d + 5), above 1
    assertThat(Double.parseDouble(user.get("impressions_7d"))).isLessThan(990);

    String[][] userEdits = {
      {"clicks_7d", "-1", "'clicks_7d' is a counter below 0: '-1'"},
      {"impressions_1h", "-0.25", "'impressions_1h' is a counter below 0"},
      {"device_mobile_7d", "-3", "'device_mobile_7d' is a counter below 0"},
      {"c.sports.impressions_1d", "-2", "'c.sports.impressions_1d' is a counter below 0"},
      {"clicks_7d", "1000", "'clicks_7d' is 1000.0, above 'impressions_7d' "},
      {"likes_1d", "1e9", "'likes_1d' is 1.0E9, above 'impressions_1d' "},
      {
        "c.sports.clicks_7d",
        "1e9",
        "'c.sports.clicks_7d' is 1.0E9, above 'c.sports.impressions_7d'"
      }
    };
    for (String[] edit : userEdits) {
      Map<String, String> h = new HashMap<>(user);
      h.put(edit[0], edit[1]);
      assertThatThrownBy(() -> UserState.fromHash(h))
          .as("user %s = %s", edit[0], edit[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("hash field " + edit[2]);
    }
    String[][] itemEdits = {
      {"clicks_7d", "-1", "'clicks_7d' is a counter below 0: '-1'"},
      {"dwell_1d", "-5", "'dwell_1d' is a counter below 0"},
      {"shares_1h", "1e9", "'shares_1h' is 1.0E9, above 'impressions_1h' "},
      {"clicks_1d", "1e9", "'clicks_1d' is 1.0E9, above 'impressions_1d' "}
    };
    for (String[] edit : itemEdits) {
      Map<String, String> h = new HashMap<>(item);
      h.put(edit[0], edit[1]);
      assertThatThrownBy(() -> ItemState.fromHash(h))
          .as("item %s = %s", edit[0], edit[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("hash field " + edit[2]);
    }
  }

  /**
   * The bound is the app's own: a user and an item every one of whose impressions was clicked,
   * liked and shared, in shuffled order (late events added to a later reference time), have those
   * counters equal to their impressions bit for bit, and their hashes read back.
   */
  @Test
  void countersAtTheirBoundReadBack() {
    List<InteractionEvent> events = new ArrayList<>();
    Random r = new Random(8);
    for (int k = 0; k < 400; k++) {
      long t = T0 + (long) (r.nextDouble() * 30 * DAY);
      events.add(
          InteractionEvent.newBuilder(event(t, true, true, r.nextFloat() * 90, Device.TABLET))
              .setShare(true)
              .build());
    }
    Collections.shuffle(events, new Random(9));
    UserState u = new UserState();
    ItemState i = new ItemState();
    for (InteractionEvent e : events) {
      u.add(e, "news");
      i.add(e);
    }
    Map<String, String> user = u.toHash();
    Map<String, String> item = i.toHash(null);
    for (String h : new String[] {"1h", "1d", "7d"}) {
      for (String c : new String[] {"clicks_", "likes_", "shares_"}) {
        assertThat(user.get(c + h)).isEqualTo(user.get("impressions_" + h));
        assertThat(item.get(c + h)).isEqualTo(item.get("impressions_" + h));
      }
    }
    assertThat(user.get("c.news.clicks_7d")).isEqualTo(user.get("c.news.impressions_7d"));
    assertThat(UserState.fromHash(user)).isEqualTo(u);
    assertThat(ItemState.fromHash(item)).isEqualTo(i);
  }

  @Test
  void schemaNamesAreUniqueAndSized() {
    assertThat(FeatureSchema.USER).doesNotHaveDuplicates().hasSize(32);
    assertThat(FeatureSchema.ITEM).doesNotHaveDuplicates().hasSize(24);
    assertThat(FeatureSchema.CROSS).doesNotHaveDuplicates().hasSize(7);
  }
}
