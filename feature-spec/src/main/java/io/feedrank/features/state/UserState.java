package io.feedrank.features.state;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.decay.DecayedVector;
import io.feedrank.features.decay.HalfLife;
import io.feedrank.features.decay.SmoothedRate;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything the platform keeps about a user: decayed engagement counters, device mix and
 * hour-of-day profile (7 d), lifetime count, first/last seen, and per-category impressions, clicks
 * and last click. O(1) per category the user has seen. Features are computed from it at any time at
 * or after its latest event ({@link #features}, {@link #crossFeatures}); it encodes to the Redis
 * hash {@code fr:u:{id}} and to bytes for a state store. Mutable; not thread-safe.
 */
public final class UserState {
  private static final int DEVICE_BASE = Engagements.SLOTS;
  private static final Device[] DEVICES = {
    Device.MOBILE, Device.DESKTOP, Device.TABLET, Device.UNKNOWN
  };
  private static final int HOUR_BASE = DEVICE_BASE + DEVICES.length;
  private static final int SLOTS = HOUR_BASE + FeatureSchema.HOUR_BLOCKS;
  private static final long[] HALF_LIVES = halfLives();
  private static final byte CODEC_VERSION = 1;
  private static final int USER_CTR_7D = FeatureSchema.USER.indexOf("u_ctr_7d");

  private final DecayedVector vector;
  private long lifetimeEvents;
  private long firstSeenMillis = Long.MIN_VALUE;
  private long lastSeenMillis = Long.MIN_VALUE;
  private final TreeMap<String, CategoryState> categories = new TreeMap<>();

  public UserState() {
    this.vector = new DecayedVector(HALF_LIVES);
  }

  private UserState(DecayedVector vector) {
    this.vector = vector;
  }

  private static long[] halfLives() {
    long[] h = new long[SLOTS];
    System.arraycopy(Engagements.halfLives(), 0, h, 0, Engagements.SLOTS);
    for (int i = DEVICE_BASE; i < SLOTS; i++) {
      h[i] = HalfLife.SEVEN_DAYS.millis();
    }
    return h;
  }

  /**
   * Adds an interaction.
   *
   * @param itemCategory the shown item's category, or null when the item is not known yet (the
   *     per-category state is then not updated)
   */
  public void add(InteractionEvent e, String itemCategory) {
    long t = e.getEventTime().toEpochMilli();
    double[] amounts = new double[SLOTS];
    Engagements.amounts(e, amounts);
    amounts[DEVICE_BASE + deviceIndex(e.getDevice())] = 1.0;
    amounts[HOUR_BASE + Instant.ofEpochMilli(t).atZone(ZoneOffset.UTC).getHour() / 4] = 1.0;
    vector.add(amounts, t);
    lifetimeEvents++;
    firstSeenMillis = firstSeenMillis == Long.MIN_VALUE ? t : Math.min(firstSeenMillis, t);
    lastSeenMillis = Math.max(lastSeenMillis, t);
    if (itemCategory != null && !itemCategory.isEmpty()) {
      categories.computeIfAbsent(itemCategory, k -> new CategoryState()).add(e.getClick(), t);
    }
  }

  /** Latest event time, or {@link Long#MIN_VALUE} for a user never seen. */
  public long referenceMillis() {
    return vector.referenceMillis();
  }

  public long lifetimeEvents() {
    return lifetimeEvents;
  }

  /** {@link FeatureSchema#USER} at {@code atMillis}, without a profile (account age −1). */
  public double[] features(long atMillis) {
    return features(atMillis, null);
  }

  /**
   * {@link FeatureSchema#USER} at {@code atMillis} (read at the latest event if earlier).
   *
   * @param profile the user's profile from the {@code users} topic, or null when unknown
   */
  public double[] features(long atMillis, UserProfile profile) {
    double[] f = new double[FeatureSchema.USER.size()];
    double[] slots = vector.valuesAt(atMillis);
    int i = Engagements.countersAndCtrs(slots, f, 0);
    long at = Math.max(atMillis, vector.referenceMillis());
    f[i++] = lifetimeEvents;
    f[i++] =
        profile == null
            ? -1.0
            : Math.max(0, at - profile.getCreatedAt().toEpochMilli()) / 86_400_000.0;
    f[i++] = Engagements.daysSince(firstSeenMillis, at);
    f[i++] = Engagements.hoursSince(lastSeenMillis, at);
    i = shares(slots, DEVICE_BASE, DEVICES.length, f, i);
    shares(slots, HOUR_BASE, FeatureSchema.HOUR_BLOCKS, f, i);
    return f;
  }

  /** {@link FeatureSchema#CROSS} for an item of {@code category} at {@code atMillis}. */
  public double[] crossFeatures(String category, long atMillis) {
    return crossFeatures(category, atMillis, new double[FeatureSchema.CROSS.size()]);
  }

  /**
   * {@link #crossFeatures(String, long)} written into {@code f} (at least {@link
   * FeatureSchema#CROSS}'s size), which is returned.
   */
  public double[] crossFeatures(String category, long atMillis, double[] f) {
    Arrays.fill(f, 0, FeatureSchema.CROSS.size(), 0.0);
    CategoryState c = category == null ? null : categories.get(category);
    double userImp7d =
        vector.valueAt(FeatureSchema.Engagement.IMPRESSIONS.slot(HalfLife.SEVEN_DAYS), atMillis);
    double userCtr7d =
        SmoothedRate.of(
            vector.valueAt(FeatureSchema.Engagement.CLICKS.slot(HalfLife.SEVEN_DAYS), atMillis),
            userImp7d,
            FeatureSchema.CTR_PRIOR,
            FeatureSchema.CTR_PRIOR_STRENGTH);
    if (c == null) {
      return withoutCategory(userCtr7d, f);
    }
    double[] slots = c.vector.valuesAt(atMillis);
    f[0] = slots[CategoryState.IMP_1D];
    f[1] = slots[CategoryState.CLK_1D];
    f[2] = slots[CategoryState.IMP_7D];
    f[3] = slots[CategoryState.CLK_7D];
    f[4] = SmoothedRate.of(f[3], f[2], userCtr7d, FeatureSchema.CTR_PRIOR_STRENGTH);
    f[5] = userImp7d > 0 ? Math.min(1.0, f[2] / userImp7d) : 0.0;
    f[6] =
        Engagements.hoursSince(c.lastClickMillis, Math.max(atMillis, c.vector.referenceMillis()));
    return f;
  }

  /**
   * {@link FeatureSchema#CROSS} for an item of no known category, from the user's {@link
   * FeatureSchema#USER} features at the same time: what {@link #crossFeatures(String, long)
   * crossFeatures(null, atMillis)} gives on the state {@code userFeatures} were computed from at
   * {@code atMillis}, which depends on the user's smoothed 7-day CTR alone ({@code u_ctr_7d}, the
   * same rate of the same counters). For a holder of a user's features without their state: the
   * streams app's item side, for an item the ranker read without its metadata.
   */
  public static double[] crossFeaturesWithoutCategory(double[] userFeatures) {
    return withoutCategory(userFeatures[USER_CTR_7D], new double[FeatureSchema.CROSS.size()]);
  }

  /** The cross group of no category into {@code f}, zero-filled: the user's CTR, never clicked. */
  private static double[] withoutCategory(double userCtr7d, double[] f) {
    f[4] = userCtr7d;
    f[6] = FeatureSchema.NEVER;
    return f;
  }

  private static int shares(double[] slots, int base, int n, double[] out, int i) {
    double sum = 0;
    for (int k = 0; k < n; k++) {
      sum += slots[base + k];
    }
    for (int k = 0; k < n; k++) {
      out[i++] = sum > 0 ? slots[base + k] / sum : 0.0;
    }
    return i;
  }

  private static int deviceIndex(Device d) {
    return switch (d) {
      case MOBILE -> 0;
      case DESKTOP -> 1;
      case TABLET -> 2;
      default -> 3;
    };
  }

  // ---- Redis hash fr:u:{id} ----

  /** Raw field names of the user vector's slots, in slot order. */
  public static String[] slotFields() {
    String[] f = new String[SLOTS];
    int i = 0;
    for (String s : FeatureSchema.engagementNames()) {
      f[i++] = s;
    }
    for (Device d : DEVICES) {
      f[i++] = "device_" + d.name().toLowerCase() + "_7d";
    }
    for (int b = 0; b < FeatureSchema.HOUR_BLOCKS; b++) {
      f[i++] = String.format("hours_%02d_%02d_7d", b * 4, b * 4 + 4);
    }
    return f;
  }

  private static final String[] SLOT_FIELDS = slotFields();

  /**
   * The Redis hash: every raw counter at {@code _ts} (its latest event time, epoch millis), plus
   * {@code _v} (feature schema version), lifetime and first/last seen, and per category {@code
   * c.<category>.<counter>}, {@code c.<category>._ts}, {@code c.<category>.last_click}. Doubles are
   * written as the shortest decimal that reads back exactly ({@link Double#parseDouble}).
   */
  public Map<String, String> toHash() {
    return toHash(Long.MIN_VALUE);
  }

  /**
   * Like {@link #toHash()}, but with only the categories whose latest event is at or after {@code
   * sinceMillis}: the ones an event at or after that time can have changed. Writing this over a
   * hash written earlier gives the same hash as writing {@link #toHash()}.
   */
  public Map<String, String> toHash(long sinceMillis) {
    return toHash(sinceMillis, null);
  }

  /**
   * Whether {@link #toHash(long) toHash(sinceMillis)} leaves out a category: written over a hash
   * Redis no longer has, it would recreate the hash without them.
   */
  public boolean leavesOutCategories(long sinceMillis) {
    for (CategoryState c : categories.values()) {
      if (c.vector.referenceMillis() < sinceMillis) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@link #toHash(long)} plus the profile fields {@code country}, {@code primary_device} and
   * {@code created_at} when the profile is known.
   */
  public Map<String, String> toHash(long sinceMillis, UserProfile profile) {
    int fields = 3 + 2 + SLOTS + 3 + categories.size() * (CategoryState.FIELDS.length + 2);
    Map<String, String> h = new LinkedHashMap<>(fields * 4 / 3 + 1);
    if (profile != null) {
      h.put("country", profile.getCountry());
      h.put("primary_device", profile.getPrimaryDevice().name());
      h.put("created_at", Long.toString(profile.getCreatedAt().toEpochMilli()));
    }
    h.put("_v", Integer.toString(FeatureSchema.VERSION));
    h.put("_ts", Long.toString(vector.referenceMillis()));
    for (int i = 0; i < SLOTS; i++) {
      h.put(SLOT_FIELDS[i], Codec.number(vector.rawValue(i)));
    }
    h.put("lifetime_events", Long.toString(lifetimeEvents));
    h.put("first_seen", Long.toString(firstSeenMillis));
    h.put("last_seen", Long.toString(lastSeenMillis));
    categories.forEach(
        (name, c) -> {
          if (c.vector.referenceMillis() < sinceMillis) {
            return;
          }
          String p = "c." + name + ".";
          h.put(p + "_ts", Long.toString(c.vector.referenceMillis()));
          for (int i = 0; i < CategoryState.FIELDS.length; i++) {
            h.put(p + CategoryState.FIELDS[i], Codec.number(c.vector.rawValue(i)));
          }
          h.put(p + "last_click", Long.toString(c.lastClickMillis));
        });
    return h;
  }

  /**
   * The hash of a user known from the {@code users} topic before any event of theirs: {@code _v}
   * and the profile fields, no {@code _ts}. Written over a hash with events, it sets only the
   * profile; read, it is a user never seen, with a profile ({@link #profileFromHash}), as the
   * user's first training example has it.
   */
  public static Map<String, String> profileHash(UserProfile profile) {
    Map<String, String> h = new LinkedHashMap<>(8);
    h.put("_v", Integer.toString(FeatureSchema.VERSION));
    h.put("country", profile.getCountry());
    h.put("primary_device", profile.getPrimaryDevice().name());
    h.put("created_at", Long.toString(profile.getCreatedAt().toEpochMilli()));
    return h;
  }

  /**
   * Reads a hash written by {@link #toHash}; an empty hash, or the profile alone ({@link
   * #profileHash}: no {@code _ts}), is a user never seen.
   *
   * @throws IllegalArgumentException when the hash is of another feature schema version, a field is
   *     malformed, or its counters are ones the app cannot have written (one below 0, which the
   *     features cannot compute a rate from; clicks, likes or shares above the impressions, of the
   *     user or of a category, which for the user's 7-day clicks can put the prior of a category's
   *     rate above 1), naming the field
   */
  public static UserState fromHash(Map<String, String> h) {
    if (h == null || h.isEmpty()) {
      return new UserState();
    }
    Codec.requireVersion(h, "user");
    if (!h.containsKey("_ts")) {
      if (!h.containsKey("created_at")) {
        throw new IllegalArgumentException("user hash has neither counters (_ts) nor a profile");
      }
      return new UserState(); // the profile, before the user's first event
    }
    double[] values = new double[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
      values[i] = Codec.counterField(h, SLOT_FIELDS[i]);
    }
    Engagements.requireWithinImpressions(values, SLOT_FIELDS);
    UserState u = new UserState(new DecayedVector(HALF_LIVES, values, Codec.longField(h, "_ts")));
    u.lifetimeEvents = Codec.longField(h, "lifetime_events");
    u.firstSeenMillis = Codec.longField(h, "first_seen");
    u.lastSeenMillis = Codec.longField(h, "last_seen");
    for (String key : h.keySet()) {
      if (key.startsWith("c.") && key.endsWith("._ts")) {
        if (key.length() <= "c.._ts".length()) { // "c._ts" would overlap its own prefix
          throw new IllegalArgumentException("user hash field '" + key + "' names no category");
        }
        String name = key.substring(2, key.length() - 4);
        String p = "c." + name + ".";
        double[] cv = new double[CategoryState.FIELDS.length];
        for (int i = 0; i < cv.length; i++) {
          cv[i] = Codec.counterField(h, p + CategoryState.FIELDS[i]);
        }
        for (int[] pair : CategoryState.CLICKS_AND_IMPRESSIONS) {
          Codec.requireAtMost(
              cv[pair[0]],
              p + CategoryState.FIELDS[pair[0]],
              cv[pair[1]],
              p + CategoryState.FIELDS[pair[1]]);
        }
        u.categories.put(
            name,
            new CategoryState(
                new DecayedVector(CategoryState.HALF_LIVES, cv, Codec.longField(h, key)),
                Codec.longField(h, p + "last_click")));
      }
    }
    return u;
  }

  /** The profile fields of a hash written with one, or null. */
  public static UserProfile profileFromHash(long userId, Map<String, String> h) {
    if (h == null || !h.containsKey("created_at")) {
      return null;
    }
    Device device;
    try {
      device = Device.valueOf(h.getOrDefault("primary_device", "UNKNOWN"));
    } catch (IllegalArgumentException e) {
      device = Device.UNKNOWN;
    }
    return UserProfile.newBuilder()
        .setUserId(userId)
        .setCountry(h.getOrDefault("country", ""))
        .setPrimaryDevice(device)
        .setCreatedAt(Instant.ofEpochMilli(Codec.longField(h, "created_at")))
        .build();
  }

  // ---- state-store bytes ----

  public byte[] toBytes() {
    byte[][] names = new byte[categories.size()][];
    int size = 1 + 8 + SLOTS * 8 + 3 * 8 + 4;
    int k = 0;
    for (String name : categories.keySet()) {
      names[k] = Codec.utf(name);
      size += names[k++].length + 8 + CategoryState.FIELDS.length * 8 + 8;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(CODEC_VERSION);
    out.putLong(vector.referenceMillis());
    for (int i = 0; i < SLOTS; i++) {
      out.putDouble(vector.rawValue(i));
    }
    out.putLong(lifetimeEvents);
    out.putLong(firstSeenMillis);
    out.putLong(lastSeenMillis);
    out.putInt(categories.size());
    k = 0;
    for (CategoryState c : categories.values()) {
      out.put(names[k++]);
      out.putLong(c.vector.referenceMillis());
      for (int i = 0; i < CategoryState.FIELDS.length; i++) {
        out.putDouble(c.vector.rawValue(i));
      }
      out.putLong(c.lastClickMillis);
    }
    return out.array();
  }

  public static UserState fromBytes(byte[] data) {
    return Codec.read(data, "UserState", UserState::read);
  }

  private static UserState read(ByteBuffer in) {
    Codec.requireCodec(in.get(), CODEC_VERSION, "UserState");
    long ref = in.getLong();
    double[] values = new double[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
      values[i] = in.getDouble();
    }
    UserState u = new UserState(new DecayedVector(HALF_LIVES, values, ref));
    u.lifetimeEvents = in.getLong();
    u.firstSeenMillis = in.getLong();
    u.lastSeenMillis = in.getLong();
    int n = in.getInt();
    for (int k = 0; k < n; k++) {
      String name = Codec.readUtf(in);
      long cref = in.getLong();
      double[] cv = new double[CategoryState.FIELDS.length];
      for (int i = 0; i < cv.length; i++) {
        cv[i] = in.getDouble();
      }
      u.categories.put(
          name,
          new CategoryState(new DecayedVector(CategoryState.HALF_LIVES, cv, cref), in.getLong()));
    }
    return u;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UserState u
        && vector.equals(u.vector)
        && lifetimeEvents == u.lifetimeEvents
        && firstSeenMillis == u.firstSeenMillis
        && lastSeenMillis == u.lastSeenMillis
        && categories.equals(u.categories);
  }

  @Override
  public int hashCode() {
    return Objects.hash(vector, lifetimeEvents, lastSeenMillis);
  }
}
