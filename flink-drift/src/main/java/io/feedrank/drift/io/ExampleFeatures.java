package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.drift.job.FeatureValue;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import io.feedrank.models.profile.TrainingProfiles;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code training-examples} → one {@link FeatureValue} per monitored feature, among those the
 * trainer profiles ({@code TrainingProfiles}): every user, item and cross feature by its schema
 * name, the hour of day, the device and the item category. Undecodable records are skipped and
 * counted ({@code drift.records.undecodable}); examples of another schema version too. Both are
 * logged, the first ones and then a count once a minute ({@link SkipLog}). Examples before 1970 or
 * too far ahead of the clock are skipped, counted and logged before they can move the watermark
 * ({@link EventTimeBound}).
 */
public final class ExampleFeatures implements KafkaRecordDeserializationSchema<FeatureValue> {
  private static final Logger log = LoggerFactory.getLogger(ExampleFeatures.class);
  private final HashMap<String, String> registry;

  /**
   * Every feature this source emits when asked for it, by name: the schema's user, item and cross
   * features, the hour of day, the device and the item category.
   */
  public static final SortedSet<String> MONITORABLE = monitorable();

  private static SortedSet<String> monitorable() {
    TreeSet<String> s = new TreeSet<>();
    s.addAll(FeatureSchema.USER);
    s.addAll(FeatureSchema.ITEM);
    s.addAll(FeatureSchema.CROSS);
    s.add(TrainingProfiles.HOUR_OF_DAY);
    s.add(TrainingProfiles.DEVICE);
    s.add(TrainingProfiles.ITEM_CATEGORY);
    return Collections.unmodifiableSortedSet(s);
  }

  /** Features to emit; null means every profiled one. */
  private final HashSet<String> monitored;

  private final EventTimeBound times;

  private transient Deserializer<TrainingExample> values;
  private transient Counter undecodable;
  private transient SkipLog skips;

  public ExampleFeatures(
      Map<String, String> registry, Set<String> monitored, EventTimeBound times) {
    this.registry = new HashMap<>(registry);
    this.monitored = monitored == null ? null : new HashSet<>(monitored);
    this.times = times;
  }

  private boolean wanted(String feature) {
    return monitored == null || monitored.contains(feature);
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, TrainingExample.class);
    undecodable = ctx.getMetricGroup().counter("drift.records.undecodable");
    skips = new SkipLog(log, "example");
    times.open(ctx.getMetricGroup(), log, "example");
  }

  @Override
  public void deserialize(
      ConsumerRecord<byte[], byte[]> record, org.apache.flink.util.Collector<FeatureValue> out) {
    TrainingExample e;
    try {
      e = values.deserialize(record.topic(), record.value());
    } catch (RegistryUnavailableException ex) {
      throw ex; // not the record's fault: fail, restart from the checkpoint, read it again
    } catch (RuntimeException ex) {
      undecodable.inc();
      skips.skipped(record, ex.getMessage());
      return;
    }
    if (e == null || e.getFeatureSchemaVersion() != FeatureSchema.VERSION) {
      undecodable.inc();
      skips.skipped(
          record,
          e == null
              ? "no value"
              : "feature schema version "
                  + e.getFeatureSchemaVersion()
                  + ", this job reads "
                  + FeatureSchema.VERSION);
      return;
    }
    long t = e.getEventTime().toEpochMilli();
    if (!times.admits(record, t)) {
      return;
    }
    out.collect(FeatureValue.numeric(FeatureValue.EXAMPLE, "NUMERIC", 1, t));
    emit(FeatureSchema.USER, e.getUserFeatures(), t, out);
    emit(FeatureSchema.ITEM, e.getItemFeatures(), t, out);
    emit(FeatureSchema.CROSS, e.getCrossFeatures(), t, out);
    if (wanted(TrainingProfiles.HOUR_OF_DAY)) {
      out.collect(
          FeatureValue.numeric(TrainingProfiles.HOUR_OF_DAY, "NUMERIC", e.getHourOfDay(), t));
    }
    if (wanted(TrainingProfiles.DEVICE)) {
      out.collect(FeatureValue.categorical(TrainingProfiles.DEVICE, e.getDevice().name(), t));
    }
    if (wanted(TrainingProfiles.ITEM_CATEGORY)) {
      out.collect(FeatureValue.categorical(TrainingProfiles.ITEM_CATEGORY, e.getItemCategory(), t));
    }
  }

  private void emit(
      List<String> names,
      List<Double> values,
      long t,
      org.apache.flink.util.Collector<FeatureValue> out) {
    int n = Math.min(names.size(), values.size());
    for (int i = 0; i < n; i++) {
      if (wanted(names.get(i))) {
        out.collect(FeatureValue.numeric(names.get(i), "NUMERIC", values.get(i), t));
      }
    }
  }

  @Override
  public TypeInformation<FeatureValue> getProducedType() {
    return TypeInformation.of(FeatureValue.class);
  }
}
