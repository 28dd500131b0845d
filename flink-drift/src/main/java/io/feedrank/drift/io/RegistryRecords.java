package io.feedrank.drift.io;

import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.avro.serde.UnknownIdPatience;
import io.feedrank.drift.job.ProfileBytes;
import io.feedrank.drift.job.ServingReference;
import io.feedrank.events.ModelVersion;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
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
 *
 * <p>Except a record whose schema id the registry answers it does not know, at first: a registry
 * replica answers so until it has read a schema registered on another (a Confluent follower,
 * Apicurio's KafkaSQL storage behind a load balancer), and skipping the record then lost the
 * promotion for good. It is read again after a back-off (1 s, doubling up to 8 s), in place, until
 * its id has been unknown for {@link UnknownIdPatience#DEFAULT}, and only then skipped as foreign,
 * as the trainer's and the ranker's readers of the topic do. The source's task waits meanwhile
 * (registry records are rare; its checkpoints wait with it).
 */
public final class RegistryRecords implements KafkaRecordDeserializationSchema<ServingReference> {
  private static final Logger log = LoggerFactory.getLogger(RegistryRecords.class);
  static final long FIRST_UNKNOWN_ID_WAIT_MS = 1_000;
  static final long MAX_UNKNOWN_ID_WAIT_MS = 8_000;
  private final HashMap<String, String> registry;
  private final long unknownIdPatienceMillis;
  private transient Deserializer<ModelVersion> values;
  private transient Counter undecodable;
  private transient SkipLog skips;
  private transient UnknownIdPatience unknownIds;

  public RegistryRecords(Map<String, String> registry) {
    this(registry, UnknownIdPatience.DEFAULT);
  }

  RegistryRecords(Map<String, String> registry, Duration unknownIdPatience) {
    this.registry = new HashMap<>(registry);
    this.unknownIdPatienceMillis = unknownIdPatience.toMillis();
  }

  @Override
  public void open(DeserializationSchema.InitializationContext ctx) {
    values = AvroValues.deserializer(registry, ModelVersion.class);
    undecodable = ctx.getMetricGroup().counter("drift.records.undecodable");
    skips = new SkipLog(log, "registry record");
    unknownIds = new UnknownIdPatience(Duration.ofMillis(unknownIdPatienceMillis));
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ServingReference> out)
      throws IOException {
    ModelVersion v = null;
    long unknownIdWait = FIRST_UNKNOWN_ID_WAIT_MS;
    for (boolean decoded = false; !decoded; ) {
      try {
        v = values.deserialize(record.topic(), record.value());
        decoded = true;
      } catch (RegistryUnavailableException e) {
        throw e; // not the record's fault: fail, restart from the checkpoint, read it again
      } catch (RuntimeException e) {
        if (unknownIds.readAgain(e)) {
          log.info(
              "drift: registry record at {}-{}@{}: {}; reading it again in {} ms",
              record.topic(),
              record.partition(),
              record.offset(),
              e.getMessage(),
              unknownIdWait);
          pause(unknownIdWait);
          unknownIdWait = Math.min(2 * unknownIdWait, MAX_UNKNOWN_ID_WAIT_MS);
          continue;
        }
        // nothing to serve from; but if it was a promotion, the job goes on measuring against the
        // version before it, so it is counted and logged as the other sources' are
        undecodable.inc();
        skips.skipped(record, e.getMessage());
        return;
      }
    }
    if (v == null) {
      return;
    }
    ServingReference r = of(v);
    r.sequence = record.offset() + 1;
    out.collect(r);
  }

  private static void pause(long millis) throws InterruptedIOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the task is being cancelled
      throw new InterruptedIOException("interrupted waiting to read a registry record again");
    }
  }

  public static ServingReference of(ModelVersion v) throws IOException {
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
