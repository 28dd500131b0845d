package io.feedrank.streams.topology;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.state.UserState;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureSink;
import io.feedrank.streams.redis.FeatureWriter;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Per user (the input is partitioned by user_id): takes the user's and the user-category features
 * as they are just before the event (decayed to its event time, without it), applies the event, and
 * forwards a training example with the user half filled in, keyed by item_id for the item half. The
 * user's hash goes to Redis at the next flush.
 */
final class UserFeatureProcessor implements Processor<byte[], Checked, Long, TrainingExample> {
  private final FeatureWriter writer;
  private final FeatureMetrics metrics;
  private final Duration flushInterval;
  private final int stateObjects;
  private ProcessorContext<Long, TrainingExample> context;
  private StateObjects<UserState> users;
  private TimestampedKeyValueStore<Long, ItemMetadata> items;
  private TimestampedKeyValueStore<Long, UserProfile> profiles;
  private DirtyEntities<UserState> dirty;

  UserFeatureProcessor(
      FeatureWriter writer, FeatureMetrics metrics, Duration flushInterval, int stateObjects) {
    this.writer = writer;
    this.metrics = metrics;
    this.flushInterval = flushInterval;
    this.stateObjects = stateObjects;
  }

  @Override
  public void init(ProcessorContext<Long, TrainingExample> context) {
    this.context = context;
    this.users =
        new StateObjects<>(
            context.<KeyValueStore<Long, UserState>>getStateStore(FeatureTopology.USER_STORE),
            stateObjects);
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
    ValueAndTimestamp<ItemMetadata> meta = items.get(e.getItemId());
    String category = meta == null ? null : meta.value().getCategory();
    UserState state = users.get(e.getUserId());
    if (state == null) {
      state = new UserState();
    }
    double[] userFeatures = state.features(t, profile(e.getUserId()));
    double[] crossFeatures = state.crossFeatures(category, t);
    try {
      state.add(e, category);
      users.put(e.getUserId(), state);
    } catch (RuntimeException ex) {
      users.forget(e.getUserId()); // changed, and perhaps not put back
      throw ex;
    }
    dirty.mark(e.getUserId(), t, state);
    metrics.processed();

    ZonedDateTime utc = e.getEventTime().atZone(ZoneOffset.UTC);
    TrainingExample half =
        TrainingExample.newBuilder()
            .setInteractionId(e.getInteractionId())
            .setUserId(e.getUserId())
            .setItemId(e.getItemId())
            .setEventTime(e.getEventTime())
            .setDevice(e.getDevice())
            .setRequestId(e.getRequestId())
            .setPosition(e.getPosition())
            .setItemCategory(category == null ? "" : category)
            .setHourOfDay(utc.getHour())
            .setDayOfWeek(utc.getDayOfWeek().getValue())
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setUserFeatures(boxed(userFeatures))
            .setItemFeatures(List.of())
            .setCrossFeatures(boxed(crossFeatures))
            .setClick(e.getClick())
            .setLike(e.getLike())
            .setShare(e.getShare())
            .setDwellSeconds(e.getDwellSeconds())
            .build();
    context.forward(new Record<>(e.getItemId(), half, record.timestamp()));
  }

  private void flush(long now) {
    dirty.flush(
        (id, earliest, latest, state) ->
            new FeatureWriter.FeatureWrite(
                FeatureWriter.userKey(id),
                (state != null ? state : users.get(id)).toHash(earliest, profile(id)),
                latest));
  }

  private UserProfile profile(long userId) {
    ValueAndTimestamp<UserProfile> p = profiles.get(userId);
    return p == null ? null : p.value();
  }

  @Override
  public void close() {
    // nothing to flush: what is not in Redis yet stays in the pending store, for whoever owns
    // this task next
  }

  static List<Double> boxed(double[] values) {
    return Arrays.stream(values).boxed().toList();
  }
}
