package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.drift.job.OnlineCtr;
import io.feedrank.events.RankingLog;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * {@code ranking-logs} → the version of {@code modelName} each request was leased and the arm it
 * was assigned to (intention to treat: a ranking a fallback served counts for them, with its {@code
 * fallback_reason}, so a staging model that fails counts against staging); not a request leased no
 * model ({@code no_model}: no version to count it for), nor synthetic requests (load tests), whose
 * impressions, if any, are not the app's users'. A log of a ranker before {@code assigned_variant}
 * counts for what served it, which was the arm unless popularity ranked (then its model is {@code
 * popularity}, not this model, and it is left out as before). Responses before 1970 or too far
 * ahead of the clock are skipped before they can move the watermark ({@link
 * EventTimeBound#violation}; counted and logged by {@link RankingScores}, which reads the same
 * records).
 */
public final class ServedResponses implements KafkaRecordDeserializationSchema<OnlineCtr.Served> {
  private final HashMap<String, String> registry;
  private final String modelName;
  private final long maxAheadOfClockMillis;
  private transient Deserializer<RankingLog> values;

  public ServedResponses(Map<String, String> registry, String modelName, EventTimeBound times) {
    this.registry = new HashMap<>(registry);
    this.modelName = modelName;
    this.maxAheadOfClockMillis = times.maxAheadMillis();
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, RankingLog.class);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<OnlineCtr.Served> out) {
    RankingLog log;
    try {
      log = values.deserialize(record.topic(), record.value());
    } catch (RegistryUnavailableException e) {
      throw e; // not the record's fault: fail, restart from the checkpoint, read it again
    } catch (RuntimeException e) {
      return; // counted by RankingScores, which reads the same records
    }
    if (log == null || log.getSynthetic()) {
      return;
    }
    boolean assigned = log.getAssignedVariant() != null;
    String model = assigned ? log.getLeasedModelName() : log.getModelName();
    if (!modelName.equals(model)) {
      return;
    }
    long t = log.getTimestamp().toEpochMilli();
    if (EventTimeBound.violation(t, System.currentTimeMillis(), maxAheadOfClockMillis) != null) {
      return; // counted by RankingScores, which reads the same records
    }
    OnlineCtr.Served s = new OnlineCtr.Served();
    s.requestId = log.getRequestId();
    s.modelVersion = assigned ? log.getLeasedModelVersion() : log.getModelVersion();
    s.variant = assigned ? log.getAssignedVariant() : log.getVariant();
    s.fallbackReason = log.getFallback() ? log.getFallbackReason() : null;
    s.time = t;
    out.collect(s);
  }

  @Override
  public TypeInformation<OnlineCtr.Served> getProducedType() {
    return TypeInformation.of(OnlineCtr.Served.class);
  }
}
