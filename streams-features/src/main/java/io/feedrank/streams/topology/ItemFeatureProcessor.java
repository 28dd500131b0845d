package io.feedrank.streams.topology;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.examples.HashExpiry;
import io.feedrank.features.examples.PointInTimeExamples;
import io.feedrank.features.state.ItemState;
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
 * Per item (after the repartition by item_id): takes the item's features as they are just before
 * the event, applies the event, and emits the complete training example keyed by user_id. The
 * item's hash, with its metadata, goes to Redis at the next flush.
 *
 * <p>An item whose hash had expired by the event ({@link HashExpiry}: no event for longer than the
 * TTL) was served with default features and no metadata, so with no category for the cross group
 * either, and the example has those features; the state keeps the history, and every write of the
 * item carries its metadata, so the hash is whole again after the event.
 */
final class ItemFeatureProcessor implements Processor<Long, HalfExample, Long, TrainingExample> {
  private final FeatureWriter writer;
  private final FeatureMetrics metrics;
  private final Duration flushInterval;
  private final FlushSchedule flushes;
  private final HashExpiry expiry;
  private ProcessorContext<Long, TrainingExample> context;
  private KeyValueStore<Long, ItemState> store;
  private TimestampedKeyValueStore<Long, TableRecord<ItemMetadata>> items;
  private DirtyEntities<ItemState> dirty;

  ItemFeatureProcessor(
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
  public void init(ProcessorContext<Long, TrainingExample> context) {
    this.context = context;
    this.store = context.getStateStore(FeatureTopology.ITEM_STORE);
    this.items = context.getStateStore(FeatureTopology.ITEMS_STORE);
    this.dirty =
        new DirtyEntities<>(
            context.getStateStore(FeatureTopology.ITEM_PENDING_STORE),
            FeatureSink.of(writer),
            metrics,
            "fr:i:");
    context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, this::flush);
  }

  @Override
  public void process(Record<Long, HalfExample> record) {
    HalfExample half = record.value();
    InteractionEvent e = half.event();
    long itemId = e.getItemId();
    long t = e.getEventTime().toEpochMilli();
    ItemMetadata meta = metadata(itemId);
    ItemState state = store.get(itemId);
    if (state == null) {
      state = new ItemState();
    }
    double[] itemFeatures;
    double[] cross = half.cross();
    if (expiry.expiredBy(t, state.referenceMillis())) {
      // the ranker read no hash: no state, no metadata, so no category for the cross group
      itemFeatures = new ItemState().features(t, null);
      cross = UserState.crossFeaturesWithoutCategory(half.user());
      metrics.expiredEntity(false);
    } else {
      itemFeatures = state.features(t, meta);
    }
    String category =
        half.category().isEmpty() && meta != null ? meta.getCategory() : half.category();
    // changed in place: if that fails, the thread fails and its tasks close dirty, which drops
    // the object (WriteBackStore)
    state.add(e);
    store.put(itemId, state);
    // an item's writes are whole (its whole state and metadata): no base to check
    dirty.mark(itemId, t, FeatureWriter.NO_BASE, state);
    context.forward(
        new Record<>(
            e.getUserId(),
            PointInTimeExamples.example(e, category, half.user(), itemFeatures, cross),
            record.timestamp()));
  }

  private ItemMetadata metadata(long itemId) {
    return TableRecord.valueOf(items.get(itemId));
  }

  private void flush(long now) {
    if (!flushes.due(now, context.currentStreamTimeMs())) {
      return;
    }
    dirty.flush(
        (id, earliest, latest, base, state) ->
            new FeatureWriter.FeatureWrite(
                FeatureWriter.itemKey(id),
                (state != null ? state : store.get(id)).toHash(metadata(id)),
                latest));
  }

  @Override
  public void close() {
    // nothing to flush: what is not in Redis yet stays in the pending store, for whoever owns
    // this task next
  }
}
