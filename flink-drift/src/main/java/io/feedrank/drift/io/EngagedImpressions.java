package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.drift.job.OnlineCtr;
import io.feedrank.events.InteractionEvent;
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
 * {@code interactions} → the impressions that name the request that ranked them. Undecodable events
 * are the streams app's to dead-letter; here they are skipped, counted ({@code
 * drift.records.undecodable}, as the other sources count theirs) and logged ({@link SkipLog}: the
 * first ones, then a count once a minute). The topic is read raw, before the streams app's checks,
 * so events it dead-letters for their time reach this source too: those before 1970 or too far
 * ahead of the clock are skipped, counted and logged as well ({@link EventTimeBound}), before they
 * can move the watermark.
 */
public final class EngagedImpressions
    implements KafkaRecordDeserializationSchema<OnlineCtr.Engaged> {
  private static final Logger log = LoggerFactory.getLogger(EngagedImpressions.class);

  private final HashMap<String, String> registry;
  private final EventTimeBound times;
  private transient Deserializer<InteractionEvent> values;
  private transient Counter undecodable;
  private transient SkipLog skips;

  public EngagedImpressions(Map<String, String> registry, EventTimeBound times) {
    this.registry = new HashMap<>(registry);
    this.times = times;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, InteractionEvent.class);
    undecodable = ctx.getMetricGroup().counter("drift.records.undecodable");
    skips = new SkipLog(log, "interaction");
    times.open(ctx.getMetricGroup(), log, "interaction");
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<OnlineCtr.Engaged> out) {
    InteractionEvent e;
    try {
      e = values.deserialize(record.topic(), record.value());
    } catch (RegistryUnavailableException ex) {
      throw ex; // not the record's fault: fail, restart from the checkpoint, read it again
    } catch (RuntimeException ex) {
      undecodable.inc();
      skips.skipped(record, ex.getMessage());
      return;
    }
    if (e == null || !times.admits(record, e.getEventTime().toEpochMilli())) {
      return;
    }
    if (e.getRequestId() == null) {
      return;
    }
    OnlineCtr.Engaged x = new OnlineCtr.Engaged();
    x.requestId = e.getRequestId();
    x.click = e.getClick();
    x.time = e.getEventTime().toEpochMilli();
    out.collect(x);
  }

  @Override
  public TypeInformation<OnlineCtr.Engaged> getProducedType() {
    return TypeInformation.of(OnlineCtr.Engaged.class);
  }
}
