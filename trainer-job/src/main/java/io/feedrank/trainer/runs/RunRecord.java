package io.feedrank.trainer.runs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a training run records, written as {@code run.json} in the run's directory: what
 * triggered it, the data range, the data read and counts, parameters, environment, durations, per
 * architecture the epochs, final metrics, export check, artifacts and the registry decision. A
 * plain mutable bean for Jackson; the job fills it as it goes and saves it at the end (and on
 * failure).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class RunRecord {
  public String id;
  public String status = "RUNNING";
  public String trigger;
  public String commandId;

  /**
   * The retrain command the run answered, whole (its fields by their Avro names, times as ISO-8601
   * instants): the drift evidence, reference version and message that asked for this model, kept
   * with it, as {@code retrain-commands} and {@code drift-reports} are delete-policy topics. Absent
   * for other runs and in records written before it was recorded.
   */
  public Map<String, Object> command;

  public String startedAt;
  public String finishedAt;
  public String dataFrom;
  public String dataTo;
  public String error;

  /**
   * Set on a run cut short (a shutdown or a crash) after its registry write committed, when a
   * listener's start completed its record from model-registry: what the record said before.
   */
  public String recovered;

  /**
   * The data the run read and kept, to tell whether a rebuild of its range trained on the same: set
   * once the range is read; absent in records written before it was recorded.
   */
  public Data data;

  public Map<String, Long> counts = new LinkedHashMap<>();
  public Map<String, Object> params = new LinkedHashMap<>();
  public Map<String, String> environment = new LinkedHashMap<>();
  public Map<String, Long> durationsMs = new LinkedHashMap<>();
  public Map<String, Map<String, Double>> baselines = new LinkedHashMap<>();
  public List<ModelRun> models = new ArrayList<>();
  public String referenceProfile;

  /**
   * The network the run chose as its candidate: the best of its networks by validation AUC (the
   * holdout then judges it against production, unbiased by the choice). Set once the networks are
   * trained.
   */
  public String bestArchitecture;

  /**
   * What a run read ({@code topic}, {@code cluster_id}, {@code lateness_ms} and {@code partitions},
   * for a read of the examples topic) and kept: the event-time span and the order-independent
   * digest of the kept examples ({@link io.feedrank.trainer.data.ExampleDigest}). {@code
   * trimmed_partitions} are the partitions whose records of the range may have been deleted before
   * the read (retention): the run trained without them.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public static final class Data {
    public String topic;
    public String clusterId;
    public Long latenessMs;
    public List<PartitionRead> partitions;
    public List<Integer> trimmedPartitions;
    public String minEventTime;
    public String maxEventTime;
    public String examplesDigest;
  }

  /**
   * One partition of a read: its log's first offset when read, the offsets read from and to, the
   * records read between them, and the timestamp of the record read from (absent when none was).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public static final class PartitionRead {
    public int partition;
    public long logStartOffset;
    public long startOffset;
    public long endOffset;
    public long recordsRead;
    public String startTimestamp;
  }

  /** One architecture trained in the run. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class ModelRun {
    public String architecture;
    public List<Map<String, Object>> epochs = new ArrayList<>();
    public int bestEpoch;

    /** The validation AUC of the kept epoch, by which the run's candidate is chosen. */
    public double validationAuc;

    public long trainMillis;
    public double examplesPerSecond;
    public Map<String, Double> metrics = new LinkedHashMap<>();
    public Map<String, Object> export = new LinkedHashMap<>();
    public Map<String, String> artifacts = new LinkedHashMap<>();
    public Map<String, String> sha256 = new LinkedHashMap<>();
    public String version;
    public String stage;
    public String decision;
    public String decisionReason;
  }

  /**
   * The run's candidate once registered: the best network, the one decided against production (the
   * others are registered REJECTED as not the best of the run); empty before registration. Records
   * written before {@code bestArchitecture} existed give their first registered network. Not a bean
   * property.
   */
  public java.util.Optional<ModelRun> registeredModel() {
    return models.stream()
        .filter(m -> m.version != null)
        .filter(m -> bestArchitecture == null || bestArchitecture.equals(m.architecture))
        .findFirst();
  }

  public static final String RUNNING = "RUNNING";
  public static final String SUCCEEDED = "SUCCEEDED";
  public static final String FAILED = "FAILED";
  public static final String REFUSED = "REFUSED";

  /** Stopped by a shutdown (its thread interrupted); a listener runs its command again. */
  public static final String CANCELLED = "CANCELLED";
}
