package io.feedrank.features.state;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.FeatureSchema.Engagement;
import io.feedrank.features.decay.DecayedVector;
import io.feedrank.features.decay.HalfLife;
import io.feedrank.features.decay.SmoothedRate;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the platform keeps about an item's engagement: decayed counters, lifetime count,
 * first/last seen. Its metadata (category, creation time, content length) comes from the {@code
 * items} topic and is written into the same Redis hash {@code fr:i:{id}} so the ranker reads an
 * item in one field set. Mutable; not thread-safe.
 */
public final class ItemState {
  private static final long[] HALF_LIVES = Engagements.halfLives();
  private static final String[] SLOT_FIELDS =
      FeatureSchema.engagementNames().toArray(String[]::new);
  private static final byte CODEC_VERSION = 1;

  private final DecayedVector vector;
  private long lifetimeEvents;
  private long firstSeenMillis = Long.MIN_VALUE;
  private long lastSeenMillis = Long.MIN_VALUE;

  public ItemState() {
    this(new DecayedVector(HALF_LIVES));
  }

  private ItemState(DecayedVector vector) {
    this.vector = vector;
  }

  public void add(InteractionEvent e) {
    long t = e.getEventTime().toEpochMilli();
    double[] amounts = new double[Engagements.SLOTS];
    Engagements.amounts(e, amounts);
    vector.add(amounts, t);
    lifetimeEvents++;
    firstSeenMillis = firstSeenMillis == Long.MIN_VALUE ? t : Math.min(firstSeenMillis, t);
    lastSeenMillis = Math.max(lastSeenMillis, t);
  }

  public long referenceMillis() {
    return vector.referenceMillis();
  }

  /** Reads what {@link #features} reads of this state; see {@link DecayedVector#touch}. */
  public long touch() {
    return lifetimeEvents ^ vector.touch();
  }

  public long lifetimeEvents() {
    return lifetimeEvents;
  }

  /**
   * {@link FeatureSchema#ITEM} at {@code atMillis}.
   *
   * @param metadata the item's metadata, or null when unknown (age −1, content length 0)
   */
  public double[] features(long atMillis, ItemMetadata metadata) {
    return features(
        atMillis, metadata, new double[FeatureSchema.ITEM.size()], new double[vector.size()]);
  }

  /**
   * {@link #features(long, ItemMetadata)} written into {@code f} (at least {@link
   * FeatureSchema#ITEM}'s size), which is returned, with {@code slots} (at least {@link
   * FeatureSchema#ENGAGEMENT_SLOTS} long) as scratch; allocates nothing.
   */
  public double[] features(long atMillis, ItemMetadata metadata, double[] f, double[] slots) {
    vector.valuesAt(atMillis, slots);
    int i = Engagements.countersAndCtrs(slots, f, 0);
    long at = Math.max(atMillis, vector.referenceMillis());
    HalfLife week = HalfLife.SEVEN_DAYS;
    double imp = slots[Engagement.IMPRESSIONS.slot(week)];
    f[i++] =
        SmoothedRate.of(
            slots[Engagement.LIKES.slot(week)],
            imp,
            FeatureSchema.LIKE_PRIOR,
            FeatureSchema.CTR_PRIOR_STRENGTH);
    f[i++] =
        SmoothedRate.of(
            slots[Engagement.SHARES.slot(week)],
            imp,
            FeatureSchema.SHARE_PRIOR,
            FeatureSchema.CTR_PRIOR_STRENGTH);
    f[i++] = imp > 0 ? slots[Engagement.DWELL.slot(week)] / imp : 0.0;
    f[i++] =
        metadata == null
            ? -1.0
            : Math.max(0, at - metadata.getCreatedAt().toEpochMilli()) / 86_400_000.0;
    f[i++] = metadata == null ? 0.0 : metadata.getContentLength();
    f[i] = lifetimeEvents;
    return f;
  }

  // ---- Redis hash fr:i:{id} ----

  /**
   * The Redis hash: raw counters at {@code _ts}, {@code _v}, lifetime, first/last seen, and the
   * metadata fields {@code category}, {@code created_at}, {@code content_length} when known.
   */
  public Map<String, String> toHash(ItemMetadata metadata) {
    Map<String, String> h = new LinkedHashMap<>((2 + SLOT_FIELDS.length + 6) * 4 / 3 + 1);
    h.put("_v", Integer.toString(FeatureSchema.VERSION));
    h.put("_ts", Long.toString(vector.referenceMillis()));
    for (int i = 0; i < SLOT_FIELDS.length; i++) {
      h.put(SLOT_FIELDS[i], Codec.number(vector.rawValue(i)));
    }
    h.put("lifetime_events", Long.toString(lifetimeEvents));
    h.put("first_seen", Long.toString(firstSeenMillis));
    h.put("last_seen", Long.toString(lastSeenMillis));
    if (metadata != null) {
      h.put("category", metadata.getCategory());
      h.put("created_at", Long.toString(metadata.getCreatedAt().toEpochMilli()));
      h.put("content_length", Integer.toString(metadata.getContentLength()));
    }
    return h;
  }

  /**
   * The metadata fields of a hash written with metadata ({@code category}, {@code created_at},
   * {@code content_length}), or null when the hash has none. The category is interned: a catalog
   * has a few dozen, and a ranker request looks up each candidate's among them, which is one
   * reference comparison for the same instance and a walk through another's bytes otherwise.
   */
  public static ItemMetadata metadataFromHash(long itemId, Map<String, String> h) {
    if (h == null || !h.containsKey("created_at")) {
      return null;
    }
    return ItemMetadata.newBuilder()
        .setItemId(itemId)
        .setCategory(h.getOrDefault("category", "").intern())
        .setCreatedAt(java.time.Instant.ofEpochMilli(Codec.longField(h, "created_at")))
        .setContentLength(Codec.parseInt(h.getOrDefault("content_length", "0"), "content_length"))
        .build();
  }

  /**
   * The hash of an item's metadata alone ({@code _v}, {@code category}, {@code created_at}, {@code
   * content_length}), written when the catalog changes: a new item is served with its metadata
   * before its first event, as its first training examples see it. No {@code _ts}: no counters.
   */
  public static Map<String, String> metadataHash(ItemMetadata metadata) {
    Map<String, String> h = new LinkedHashMap<>(8);
    h.put("_v", Integer.toString(FeatureSchema.VERSION));
    h.put("category", metadata.getCategory());
    h.put("created_at", Long.toString(metadata.getCreatedAt().toEpochMilli()));
    h.put("content_length", Integer.toString(metadata.getContentLength()));
    return h;
  }

  /**
   * Reads the counters of a hash written by {@link #toHash}; empty, or the metadata alone ({@link
   * #metadataHash}: no {@code _ts}), = never seen.
   *
   * @throws IllegalArgumentException when the hash is of another feature schema version, a field is
   *     malformed, or its counters are ones the app cannot have written (one below 0, which {@link
   *     #features} cannot compute a rate from; clicks, likes or shares above the impressions),
   *     naming the field
   */
  public static ItemState fromHash(Map<String, String> h) {
    if (h == null || h.isEmpty()) {
      return new ItemState();
    }
    Codec.requireVersion(h, "item");
    if (!h.containsKey("_ts")) {
      if (!h.containsKey("created_at")) {
        throw new IllegalArgumentException("item hash has neither counters (_ts) nor metadata");
      }
      return new ItemState(); // the catalog's metadata, before the item's first event
    }
    double[] values = new double[SLOT_FIELDS.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = Codec.counterField(h, SLOT_FIELDS[i]);
    }
    Engagements.requireWithinImpressions(values, SLOT_FIELDS);
    ItemState s = new ItemState(new DecayedVector(HALF_LIVES, values, Codec.longField(h, "_ts")));
    s.lifetimeEvents = Codec.longField(h, "lifetime_events");
    s.firstSeenMillis = Codec.longField(h, "first_seen");
    s.lastSeenMillis = Codec.longField(h, "last_seen");
    return s;
  }

  public byte[] toBytes() {
    ByteBuffer out = ByteBuffer.allocate(1 + 8 + SLOT_FIELDS.length * 8 + 3 * 8);
    out.put(CODEC_VERSION);
    out.putLong(vector.referenceMillis());
    for (int i = 0; i < SLOT_FIELDS.length; i++) {
      out.putDouble(vector.rawValue(i));
    }
    out.putLong(lifetimeEvents);
    out.putLong(firstSeenMillis);
    out.putLong(lastSeenMillis);
    return out.array();
  }

  public static ItemState fromBytes(byte[] data) {
    return Codec.read(data, "ItemState", ItemState::read);
  }

  private static ItemState read(ByteBuffer in) {
    Codec.requireCodec(in.get(), CODEC_VERSION, "ItemState");
    long ref = in.getLong();
    double[] values = new double[SLOT_FIELDS.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.getDouble();
    }
    ItemState s = new ItemState(new DecayedVector(HALF_LIVES, values, ref));
    s.lifetimeEvents = in.getLong();
    s.firstSeenMillis = in.getLong();
    s.lastSeenMillis = in.getLong();
    return s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ItemState s
        && vector.equals(s.vector)
        && lifetimeEvents == s.lifetimeEvents
        && firstSeenMillis == s.firstSeenMillis
        && lastSeenMillis == s.lastSeenMillis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(vector, lifetimeEvents);
  }
}
