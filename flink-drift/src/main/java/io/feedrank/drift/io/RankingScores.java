package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.drift.job.FeatureValue;
import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.models.profile.ProfileBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * {@code ranking-logs} → the scores of each response served by the production model of {@code
 * modelName}, as one record ({@link FeatureValue#scores}: the response is the sampling unit), for
 * prediction drift against the production model's reference score distribution. The A/B share's
 * staging model is another model, with a distribution of its own, and is left out. Fallback
 * rankings are not model scores and are left out, as are responses without items and synthetic ones
 * (a load test's candidates are not what the app would ask to rank). Each model version's scores
 * are keyed apart ({@link FeatureValue#versioned}): a version is judged against its own reference
 * only, so the scores of a model a ranker still serves after a promotion are not taken for the new
 * one's. Undecodable records are skipped, counted ({@code drift.records.undecodable}, once for both
 * readers of the topic) and logged ({@link SkipLog}); so are responses before 1970 or too far ahead
 * of the clock ({@link EventTimeBound}: any of the topic's, also counted once for both readers),
 * before they can move the watermark.
 */
public final class RankingScores implements KafkaRecordDeserializationSchema<FeatureValue> {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(RankingScores.class);
  private static final String PRODUCTION = "production";
  private final HashMap<String, String> registry;
  private final String modelName;
  private final EventTimeBound times;
  private transient Deserializer<RankingLog> values;
  private transient Counter undecodable;
  private transient SkipLog skips;

  public RankingScores(Map<String, String> registry, String modelName, EventTimeBound times) {
    this.registry = new HashMap<>(registry);
    this.modelName = modelName;
    this.times = times;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, RankingLog.class);
    undecodable = ctx.getMetricGroup().counter("drift.records.undecodable");
    skips = new SkipLog(LOG, "ranking log");
    times.open(ctx.getMetricGroup(), LOG, "ranking log");
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<FeatureValue> out) {
    RankingLog log;
    try {
      log = values.deserialize(record.topic(), record.value());
    } catch (RegistryUnavailableException e) {
      throw e; // not the record's fault: fail, restart from the checkpoint, read it again
    } catch (RuntimeException e) {
      undecodable.inc();
      skips.skipped(record, e.getMessage());
      return;
    }
    if (log == null || !times.admits(record, log.getTimestamp().toEpochMilli())) {
      return;
    }
    if (log.getFallback()
        || log.getSynthetic()
        || !PRODUCTION.equals(log.getVariant())
        || !modelName.equals(log.getModelName())) {
      return;
    }
    List<RankedItem> items = log.getItems();
    if (items.isEmpty()) {
      return;
    }
    double[] scores = new double[items.size()];
    for (int k = 0; k < scores.length; k++) {
      scores[k] = items.get(k).getScore();
    }
    out.collect(
        FeatureValue.scores(
            FeatureValue.versioned(ProfileBuilder.SCORE, log.getModelVersion()),
            scores,
            log.getTimestamp().toEpochMilli()));
  }

  @Override
  public TypeInformation<FeatureValue> getProducedType() {
    return TypeInformation.of(FeatureValue.class);
  }
}
