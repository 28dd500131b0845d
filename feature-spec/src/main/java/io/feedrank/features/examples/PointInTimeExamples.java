package io.feedrank.features.examples;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Point-in-time training examples from a sequence of events, in memory: for each event, the
 * features of its user, item and user-category as they were just before it (the user's as they were
 * before the ranking request it came from: {@link RequestSnapshots}), then the event is added. The
 * same {@link UserState} / {@link ItemState} / {@link RequestSnapshots} maths the streams app keeps
 * in its state stores, so the same events give the same examples, for places that have events but
 * no running streams app: the trainer's tests, the training benchmark, backfills from an events
 * file. Holds every user's state and snapshots in memory. Not thread-safe.
 *
 * <p>As the app, it builds the example of an event that comes more than the Redis hashes' TTL after
 * its user's or item's latest with what the ranker read then ({@link HashExpiry}): that side's
 * default features, without profile or metadata (so the cross group of no category when the item's
 * hash was gone). The state keeps the history.
 */
public final class PointInTimeExamples {
  private final HashExpiry expiry;
  private final Map<Long, UserState> users = new HashMap<>();
  private final Map<Long, ItemState> items = new HashMap<>();
  private final Map<Long, UserProfile> profiles = new HashMap<>();
  private final Map<Long, ItemMetadata> catalog = new HashMap<>();
  private final Map<Long, RequestSnapshots> requests = new HashMap<>();

  /** With the features app's default TTL ({@link HashExpiry#DEFAULT_TTL}). */
  public PointInTimeExamples() {
    this(HashExpiry.DEFAULT_TTL);
  }

  /**
   * @param redisTtl the features app's {@code redis.ttl.seconds}
   */
  public PointInTimeExamples(Duration redisTtl) {
    this.expiry = new HashExpiry(redisTtl);
  }

  /** Records (or replaces) a user's profile, as the compacted {@code users} topic would. */
  public void profile(UserProfile p) {
    profiles.put(p.getUserId(), p);
  }

  /** Records (or replaces) an item's metadata, as the compacted {@code items} topic would. */
  public void item(ItemMetadata m) {
    catalog.put(m.getItemId(), m);
  }

  /** The example of {@code e} (features before it), then {@code e} added to the state. */
  public TrainingExample next(InteractionEvent e) {
    long t = e.getEventTime().toEpochMilli();
    ItemMetadata meta = catalog.get(e.getItemId());
    String category = meta == null ? null : meta.getCategory();
    UserState user = users.computeIfAbsent(e.getUserId(), k -> new UserState());
    ItemState item = items.computeIfAbsent(e.getItemId(), k -> new ItemState());
    // the impressions of one served feed all get the user's state from before the feed
    UserState seen =
        e.getRequestId() == null
            ? user
            : requests
                .computeIfAbsent(e.getUserId(), k -> new RequestSnapshots())
                .before(e, user)
                .state();
    UserProfile profile = profiles.get(e.getUserId());
    if (expiry.expiredBy(t, seen.referenceMillis())) {
      seen = new UserState();
      profile = null;
    }
    double[] userFeatures = seen.features(t, profile);
    double[] itemFeatures;
    double[] crossFeatures;
    if (expiry.expiredBy(t, item.referenceMillis())) {
      itemFeatures = new ItemState().features(t, null);
      crossFeatures = seen.crossFeatures(null, t);
    } else {
      itemFeatures = item.features(t, meta);
      crossFeatures = seen.crossFeatures(category, t);
    }
    user.add(e, category);
    item.add(e);
    return example(e, category == null ? "" : category, userFeatures, itemFeatures, crossFeatures);
  }

  /**
   * The training example of {@code e}: its context and labels with the given features (the
   * features-app builds its examples with this too).
   *
   * @param category the item's category, "" when unknown
   */
  public static TrainingExample example(
      InteractionEvent e, String category, double[] user, double[] item, double[] cross) {
    ZonedDateTime utc = e.getEventTime().atZone(ZoneOffset.UTC);
    return TrainingExample.newBuilder()
        .setInteractionId(e.getInteractionId())
        .setUserId(e.getUserId())
        .setItemId(e.getItemId())
        .setEventTime(e.getEventTime())
        .setDevice(e.getDevice())
        .setRequestId(e.getRequestId())
        .setPosition(e.getPosition())
        .setItemCategory(category)
        .setHourOfDay(utc.getHour())
        .setDayOfWeek(utc.getDayOfWeek().getValue())
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .setUserFeatures(boxed(user))
        .setItemFeatures(boxed(item))
        .setCrossFeatures(boxed(cross))
        .setClick(e.getClick())
        .setLike(e.getLike())
        .setShare(e.getShare())
        .setDwellSeconds(e.getDwellSeconds())
        .build();
  }

  private static List<Double> boxed(double[] values) {
    Double[] b = new Double[values.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = values[i];
    }
    return Arrays.asList(b);
  }
}
