package io.feedrank.streams.topology;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.features.examples.HashExpiry;
import io.feedrank.features.examples.RequestSnapshots;
import io.feedrank.features.state.UserState;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureSink;
import io.feedrank.streams.redis.FeatureWriter;
import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;

/**
 * Per user (the input is partitioned by user_id): takes the user's and the user-category features
 * as they are just before the event (decayed to its event time, without it; for an impression of a
 * served feed, as they were before the feed's ranking request: {@link RequestSnapshots}, kept per
 * user in a store of their own), applies the event, and forwards them with the event, keyed by
 * item_id, for the item side to complete the training example. The user's hash goes to Redis at the
 * next flush.
 *
 * <p>A user whose hash had expired by the event ({@link HashExpiry}: no event for longer than the
 * TTL) was served as one never seen, without profile, and the example has those features; the state
 * keeps the history, and the hash is written whole again, with the profile, after the event.
 */
final class UserFeatureProcessor implements Processor<byte[], Checked, Long, HalfExample> {
  private final FeatureWriter writer;
  private final FeatureMetrics metrics;
  private final Duration flushInterval;
  private final FlushSchedule flushes;
  private final HashExpiry expiry;
  private ProcessorContext<Long, HalfExample> context;
  private KeyValueStore<Long, UserState> users;
  private KeyValueStore<Long, RequestSnapshots> requests;
  private TimestampedKeyValueStore<Long, TableRecord<ItemMetadata>> items;
  private TimestampedKeyValueStore<Long, TableRecord<UserProfile>> profiles;
  private DirtyEntities<UserState> dirty;

  UserFeatureProcessor(
      FeatureWriter writer,
      FeatureMetrics metrics,
      Duration flushInterval,
      FlushSchedule flushes,
      HashExpiry expiry) {
    this.writer = writer;
    this.metrics = metrics;
    this.flushInterval = flushInterval;
    this.flushes = flushes;
    this.expiry = expiry;
  }

  @Override
  public void init(ProcessorContext<Long, HalfExample> context) {
    this.context = context;
    this.users = context.getStateStore(FeatureTopology.USER_STORE);
    this.requests = context.getStateStore(FeatureTopology.REQUESTS_STORE);
    this.items = context.getStateStore(FeatureTopology.ITEMS_STORE);
    this.profiles = context.getStateStore(FeatureTopology.USERS_STORE);
    this.dirty =
        new DirtyEntities<>(
            context.getStateStore(FeatureTopology.USER_PENDING_STORE),
            FeatureSink.of(writer),
            metrics,
            "fr:u:");
    context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, this::flush);
  }

  @Override
  public void process(Record<byte[], Checked> record) {
    InteractionEvent e = record.value().event();
    long t = e.getEventTime().toEpochMilli();
    ItemMetadata meta = TableRecord.valueOf(items.get(e.getItemId()));
    String category = meta == null ? null : meta.getCategory();
    UserState state = users.get(e.getUserId());
    if (state == null) {
      state = new UserState();
    }
    // the impressions of one served feed all get the user's state from before the feed, as the
    // ranker scored them
    UserState seen = e.getRequestId() == null ? state : beforeRequest(e, state);
    UserProfile profile = null;
    if (expiry.expiredBy(t, seen.referenceMillis())) {
      seen = new UserState(); // the ranker read no hash: no state, no profile
      metrics.expiredEntity(true);
    } else {
      profile = profile(e.getUserId());
    }
    double[] userFeatures = seen.features(t, profile);
    double[] crossFeatures = seen.crossFeatures(category, t);
    // changed in place: if that fails, the thread fails and its tasks close dirty, which drops
    // the object (WriteBackStore)
    long eventsBefore = state.lifetimeEvents();
    state.add(e, category);
    users.put(e.getUserId(), state);
    dirty.mark(e.getUserId(), t, eventsBefore, state);
    metrics.processed();

    context.forward(
        new Record<>(
            e.getItemId(),
            new HalfExample(e, category == null ? "" : category, userFeatures, crossFeatures),
            record.timestamp()));
  }

  /** The state {@code e}, an event of a request, gets; its user's snapshots kept up to date. */
  private UserState beforeRequest(InteractionEvent e, UserState state) {
    RequestSnapshots snapshots = requests.get(e.getUserId());
    if (snapshots == null) {
      snapshots = new RequestSnapshots();
    }
    RequestSnapshots.Seen seen = snapshots.before(e, state);
    if (seen.changed()) {
      requests.put(e.getUserId(), snapshots);
    }
    if (seen.missed()) {
      metrics.snapshotMissed();
    }
    return seen.state();
  }

  private void flush(long now) {
    if (!flushes.due(now, context.currentStreamTimeMs())) {
      return;
    }
    // a user whose partial write was refused (Redis lost their hash) is written whole (users
    // this task no longer owns are its new owner's to write)
    for (long id : dirty.drainLost()) {
      if (users.get(id) != null) {
        dirty.markWhole(id);
      }
    }
    dirty.flush(
        (id, earliest, latest, base, state) -> {
          UserState s = state != null ? state : users.get(id);
          return new FeatureWriter.FeatureWrite(
              FeatureWriter.userKey(id),
              s.toHash(earliest, profile(id)),
              latest,
              s.leavesOutCategories(earliest),
              base);
        });
  }

  private UserProfile profile(long userId) {
    return TableRecord.valueOf(profiles.get(userId));
  }

  @Override
  public void close() {
    // nothing to flush: what is not in Redis yet stays in the pending store, for whoever owns
    // this task next
  }
}
