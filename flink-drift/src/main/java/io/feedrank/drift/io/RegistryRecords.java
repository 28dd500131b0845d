package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.drift.job.ProfileBytes;
import io.feedrank.drift.job.ServingReference;
import io.feedrank.events.ModelVersion;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code model-registry} → {@link ServingReference}: stage, time and the reference profile. A
 * tombstone is passed over; a record that cannot be decoded is skipped, counted ({@code
 * drift.records.undecodable}, the source {@code model-registry}) and logged ({@link SkipLog}): an
 * unreadable promotion leaves the job measuring against the previous reference.
 */
public final class RegistryRecords implements KafkaRecordDeserializationSchema<ServingReference> {
  private static final Logger log = LoggerFactory.getLogger(RegistryRecords.class);
  private final HashMap<String, String> registry;
  private transient Deserializer<ModelVersion> values;
  private transient Counter undecodable;
  private transient SkipLog skips;

  public RegistryRecords(Map<String, String> registry) {
    this.registry = new HashMap<>(registry);
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, ModelVersion.class);
    undecodable = ctx.getMetricGroup().counter("drift.records.undecodable");
    skips = new SkipLog(log, "registry record");
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ServingReference> out)
      throws java.io.IOException {
    ModelVersion v;
    try {
      v = values.deserialize(record.topic(), record.value());
    } catch (RegistryUnavailableException e) {
      throw e; // not the record's fault: fail, restart from the checkpoint, read it again
    } catch (RuntimeException e) {
      // nothing to serve from; but if it was a promotion, the job goes on measuring against the
      // version before it, so it is counted and logged as the other sources' are
      undecodable.inc();
      skips.skipped(record, e.getMessage());
      return;
    }
    if (v == null) {
      return;
    }
    ServingReference r = of(v);
    r.sequence = record.offset() + 1;
    out.collect(r);
  }

  public static ServingReference of(ModelVersion v) throws java.io.IOException {
    ServingReference r = new ServingReference();
    r.modelName = v.getModelName();
    r.version = v.getVersion();
    r.stage = v.getStage().name();
    r.updatedAt = v.getUpdatedAt().toEpochMilli();
    r.trainingTo = v.getTrainingTo() == null ? 0 : v.getTrainingTo().toEpochMilli();
    if (v.getReferenceProfile() != null) {
      r.profile = ProfileBytes.of(v.getReferenceProfile());
    }
    return r;
  }

  @Override
  public TypeInformation<ServingReference> getProducedType() {
    return TypeInformation.of(ServingReference.class);
  }
}
