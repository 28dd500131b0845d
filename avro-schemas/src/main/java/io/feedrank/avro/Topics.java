package io.feedrank.avro;

import io.feedrank.events.Alert;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.DriftReport;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.OnlineCtrReport;
import io.feedrank.events.RankingLog;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every topic of the platform (DESIGN §2): its name, default partition count, whether it is
 * compacted, and the Avro record its values carry. The one place topic names are spelled.
 */
public final class Topics {
  public static final String INTERACTIONS = "interactions";
  public static final String USERS = "users";
  public static final String ITEMS = "items";
  public static final String INTERACTIONS_DLQ = "interactions-dlq";
  public static final String TRAINING_EXAMPLES = "training-examples";
  public static final String RANKING_LOGS = "ranking-logs";
  public static final String DRIFT_REPORTS = "drift-reports";
  public static final String ONLINE_CTR = "online-ctr";
  public static final String ALERTS = "alerts";
  public static final String RETRAIN_COMMANDS = "retrain-commands";
  public static final String MODEL_REGISTRY = "model-registry";

  /** Default partitions of the input and of every topic co-partitioned with it by user_id. */
  public static final int DEFAULT_INTERACTION_PARTITIONS = 12;

  /**
   * A topic and its record type.
   *
   * @param name kebab-case topic name
   * @param partitions default partition count
   * @param compacted {@code cleanup.policy=compact} when true, {@code delete} otherwise
   * @param valueType the generated Avro class of the values
   * @param keyDescription what the key holds and how it is serialized
   */
  public record TopicSpec(
      String name,
      int partitions,
      boolean compacted,
      Class<? extends SpecificRecord> valueType,
      String keyDescription) {

    /** Subject of the value schema under TopicNameStrategy. */
    public String valueSubject() {
      return name + "-value";
    }

    /** The compiled value schema. */
    public Schema valueSchema() {
      return io.feedrank.avro.serde.AvroSerdes.schemaOf(valueType);
    }

    /** The same topic under another name (e.g. a per-test copy). */
    public TopicSpec renamed(String newName) {
      return new TopicSpec(newName, partitions, compacted, valueType, keyDescription);
    }

    /** The same topic with another partition count (keeps 1-partition topics at 1). */
    public TopicSpec withPartitions(int newPartitions) {
      return partitions == 1
          ? this
          : new TopicSpec(name, newPartitions, compacted, valueType, keyDescription);
    }
  }

  public static final List<TopicSpec> ALL =
      List.of(
          new TopicSpec(
              INTERACTIONS,
              DEFAULT_INTERACTION_PARTITIONS,
              false,
              InteractionEvent.class,
              "user_id, long (Kafka LongSerializer)"),
          new TopicSpec(
              USERS, DEFAULT_INTERACTION_PARTITIONS, true, UserProfile.class, "user_id, long"),
          new TopicSpec(
              ITEMS, DEFAULT_INTERACTION_PARTITIONS, true, ItemMetadata.class, "item_id, long"),
          new TopicSpec(INTERACTIONS_DLQ, 3, false, DeadLetter.class, "the original key bytes"),
          new TopicSpec(
              TRAINING_EXAMPLES,
              DEFAULT_INTERACTION_PARTITIONS,
              false,
              TrainingExample.class,
              "user_id, long"),
          new TopicSpec(RANKING_LOGS, 6, false, RankingLog.class, "request_id, string"),
          new TopicSpec(DRIFT_REPORTS, 1, false, DriftReport.class, "feature, string"),
          new TopicSpec(ONLINE_CTR, 1, false, OnlineCtrReport.class, "model_name, string"),
          new TopicSpec(ALERTS, 1, false, Alert.class, "kind, string"),
          new TopicSpec(RETRAIN_COMMANDS, 1, false, RetrainCommand.class, "model_name, string"),
          new TopicSpec(MODEL_REGISTRY, 1, true, ModelVersion.class, "model_name@version, string"));

  /** The spec of a topic by name. */
  public static Optional<TopicSpec> byName(String name) {
    return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  /** Key of a {@link ModelVersion} on the compacted registry topic. */
  public static String modelRegistryKey(String modelName, String version) {
    return modelName + "@" + version;
  }

  private Topics() {}
}
