package io.feedrank.trainer;

import static io.feedrank.avro.ConfigMap.doubleOf;
import static io.feedrank.avro.ConfigMap.intOf;
import static io.feedrank.avro.ConfigMap.longOf;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.export.ExportVerification;
import io.feedrank.trainer.registry.ProductionEvaluator;
import io.feedrank.trainer.train.Architecture;
import io.feedrank.trainer.train.Hyperparameters;
import io.feedrank.trainer.train.NetworkTrainer;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * Configuration of the trainer, validated on construction, loaded from a flat string map (a
 * properties file overlaid with environment and command-line options by the CLI); keys and defaults
 * on {@link #from} and in the README.
 */
public record TrainerConfig(
    String bootstrapServers,
    RegistryConfig registryConfig,
    String examplesTopic,
    String modelRegistryTopic,
    String retrainTopic,
    String modelName,
    String artifactStore,
    List<Architecture> architectures,
    Hyperparameters hyper,
    Duration dataWindow,
    Instant dataFrom,
    Instant dataTo,
    Duration lateness,
    Duration idleTimeout,
    int minExamples,
    int maxExamples,
    double promoteMinAucGain,
    int promoteMinClicks,
    int modelArtifactMaxBytes,
    int verifyRows,
    double verifyTolerance,
    int threads,
    String listenGroupId,
    Duration retrainSettle,
    int retrainAttempts,
    Duration retrainBackoff,
    String metricsHost,
    int metricsPort,
    Map<String, String> kafkaOverrides,
    boolean autoRegisterSchemas) {

  public TrainerConfig {
    require(bootstrapServers, "bootstrap.servers");
    Objects.requireNonNull(registryConfig, "registryConfig");
    require(modelName, "model.name");
    require(artifactStore, "artifact.store");
    architectures = List.copyOf(architectures);
    if (architectures.isEmpty() || architectures.contains(Architecture.LOGISTIC)) {
      throw new IllegalArgumentException(
          "architectures must name mlp and/or two_tower (the logistic baseline is always trained)");
    }
    if ((dataFrom == null) != (dataTo == null)) {
      throw new IllegalArgumentException("data.from and data.to go together");
    }
    if (retrainSettle.isNegative()) {
      throw new IllegalArgumentException("retrain.settle.ms must be >= 0, got " + retrainSettle);
    }
    if (retrainAttempts < 1) {
      throw new IllegalArgumentException("retrain.attempts must be >= 1, got " + retrainAttempts);
    }
    if (retrainBackoff.isNegative()) {
      throw new IllegalArgumentException(
          "retrain.retry.backoff.ms must be >= 0, got " + retrainBackoff.toMillis());
    }
    if (minExamples < 100) {
      throw new IllegalArgumentException("min.examples must be >= 100, got " + minExamples);
    }
    if (maxExamples < minExamples) {
      // every run would be refused: it keeps max.examples and needs min.examples
      throw new IllegalArgumentException(
          "max.examples must be >= min.examples (" + minExamples + "), got " + maxExamples);
    }
    if (verifyRows < ExportVerification.MIN_ROWS) {
      throw new IllegalArgumentException(
          "export.verify.rows must be >= "
              + ExportVerification.MIN_ROWS
              + " (the export check's minimum), got "
              + verifyRows);
    }
    if (!(verifyTolerance > 0 && verifyTolerance <= ExportVerification.MAX_TOLERANCE)) {
      // NaN, 0 or a negative value failed every run, saying the ONNX export disagreed; an infinite
      // or huge one let any export through
      throw new IllegalArgumentException(
          "export.verify.tolerance must be > 0 and at most "
              + ExportVerification.MAX_TOLERANCE
              + " (the largest |score difference| between ONNX Runtime and PyTorch an export may"
              + " have), got "
              + verifyTolerance);
    }
    if (!(promoteMinAucGain > 0) || !Double.isFinite(promoteMinAucGain)) {
      throw new IllegalArgumentException(
          "promote.min.auc.gain must be finite and > 0, got " + promoteMinAucGain);
    }
    if (promoteMinClicks < 1) {
      throw new IllegalArgumentException(
          "promote.min.clicks must be >= 1, got " + promoteMinClicks);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1");
    }
    kafkaOverrides = Map.copyOf(kafkaOverrides);
  }

  /**
   * {@code max.examples}' default: about 1 GB of heap at a run's peak ({@link
   * #PEAK_BYTES_PER_EXAMPLE}), a third of the JVM's default heap (a quarter of the memory) in the
   * trainer's 12 GiB container, a quarter of it on a 16 GB machine, a seventh of the heap
   * infra/k8s/trainer.yaml gives the trainer (60% of 12 GiB).
   */
  public static final int DEFAULT_MAX_EXAMPLES = 1_000_000;

  /**
   * Heap a run holds per example at its peak, in bytes, rounded up from 1,040 measured on JDK 17
   * with compressed oops (200,000 simulator examples): while the splits are vectorized, the compact
   * example (about 650 bytes: 63 doubles in three arrays, the record, its category string) and its
   * vectorized row (312 bytes: 71 floats, two bucket ids, the label, the user id) are alive
   * together. The standardized rows the networks train on (284 bytes) are built once the examples
   * of the train and validation splits are let go; while the networks train, about 520 bytes an
   * example stay. (Before, everything stayed to the end of the run: 1,390 bytes an example.)
   */
  public static final int PEAK_BYTES_PER_EXAMPLE = 1_050;

  /** The range to train on when a request names none: data.from/to, else the last data.days. */
  public DataRange defaultRange(Instant now) {
    return dataFrom != null ? new DataRange(dataFrom, dataTo) : DataRange.last(dataWindow, now);
  }

  /** An architecture the trainer trains on request: not the logistic baseline, always trained. */
  private static Architecture trainable(String name) {
    Architecture a;
    try {
      a = Architecture.of(name);
    } catch (IllegalArgumentException e) {
      a = null;
    }
    if (a == null || a == Architecture.LOGISTIC) {
      throw new IllegalArgumentException(
          "architectures: '"
              + name
              + "' is not one the trainer trains on request: mlp or two_tower (the logistic"
              + " baseline is always trained)");
    }
    return a;
  }

  /**
   * Reads the keys (defaults in brackets): {@code bootstrap.servers}, {@code schema.registry.url}
   * (required), the registry's other keys ({@link RegistryConfig#fromMap}: credentials, retries,
   * timeout), {@code auto.register.schemas} [true]; {@code training.examples.topic}
   * [training-examples], {@code model.registry.topic} [model-registry], {@code
   * retrain.commands.topic} [retrain-commands], {@code model.name} [feed-ranker], {@code
   * artifact.store} [target/artifacts]; {@code architectures} [mlp,two_tower]; {@code data.days}
   * [7] (or {@code data.window.ms}) or {@code data.from} + {@code data.to} (ISO-8601 instants),
   * {@code data.lateness.ms} [3600000], {@code data.idle.timeout.ms} [60000], {@code min.examples}
   * [10000], {@code max.examples} [1000000] (what a run holds: a uniform sample of that many when
   * the range has more; {@link #DEFAULT_MAX_EXAMPLES}); {@code promote.min.auc.gain} [0.01], {@code
   * promote.min.clicks} [100], {@code model.artifact.max.bytes} [268435456] (the most of
   * production's artifact read to compare a candidate with it; the ranker's key and default);
   * {@code export.verify.rows} [5000], {@code export.verify.tolerance} [1e-5]; {@code mlp.layers}
   * [512,256,128], {@code tower.layers} [256,128,64], {@code embedding.dim} [32], {@code
   * user.buckets} [50000], {@code item.buckets} [100000], {@code dropout} [0.3], {@code
   * learning.rate} [0.001], {@code batch.size} [1024], {@code max.epochs} [10], {@code patience}
   * [2], {@code embedding.l2} [0.0001], {@code weight.decay} [0], {@code seed} [42]; {@code
   * threads} [2] (PyTorch intra-op); {@code listen.group.id} [feedrank-trainer-<i>model.name</i>],
   * {@code retrain.settle.ms} [0] (how much event time a retrain command's run waits after the
   * command was issued, so that a drift-triggered retrain trains mostly on the new regime), {@code
   * retrain.attempts} [3] (attempts at a command's run that may fail before it is given up), {@code
   * retrain.retry.backoff.ms} [60000] (the wait before the second, doubled before each later one);
   * any {@code kafka.*} key goes to the Kafka clients without the prefix.
   */
  public static TrainerConfig from(Map<String, String> values) {
    return ConfigMap.read(values, "the trainer", TrainerConfig::read);
  }

  private static TrainerConfig read(Map<String, String> p) {
    if (p.containsKey("data.window.ms") && p.containsKey("data.days")) {
      throw new IllegalArgumentException("give data.window.ms or data.days, not both");
    }
    Map<String, String> overrides = ConfigMap.kafkaKeys(p);
    // the trainer's own settings win over kafka.*: these would be silently ignored
    ConfigMap.refuseKafkaDuplicates(
        overrides, Map.of("group.id", "listen.group.id"), "the trainer");
    Hyperparameters d = Hyperparameters.defaults();
    Hyperparameters h =
        new Hyperparameters(
            ints(p, "mlp.layers", d.mlpLayers()),
            ints(p, "tower.layers", d.towerLayers()),
            intOf(p, "embedding.dim", d.embeddingDim(), 1, Integer.MAX_VALUE),
            intOf(p, "user.buckets", d.userBuckets(), 1, Integer.MAX_VALUE),
            intOf(p, "item.buckets", d.itemBuckets(), 1, Integer.MAX_VALUE),
            rate(p, "dropout", d.dropout(), Rate.DROPOUT),
            rate(p, "learning.rate", d.learningRate(), Rate.POSITIVE),
            batchSize(p, d.batchSize()),
            intOf(p, "max.epochs", d.maxEpochs(), 1, Integer.MAX_VALUE),
            intOf(p, "patience", d.patience(), 1, Integer.MAX_VALUE),
            rate(p, "embedding.l2", d.embeddingL2(), Rate.NON_NEGATIVE),
            rate(p, "weight.decay", d.weightDecay(), Rate.NON_NEGATIVE),
            longOf(p, "seed", d.seed()));
    String modelName = p.getOrDefault("model.name", "feed-ranker");
    return new TrainerConfig(
        p.get("bootstrap.servers"),
        RegistryConfig.fromMap(p),
        p.getOrDefault("training.examples.topic", Topics.TRAINING_EXAMPLES),
        p.getOrDefault("model.registry.topic", Topics.MODEL_REGISTRY),
        p.getOrDefault("retrain.commands.topic", Topics.RETRAIN_COMMANDS),
        modelName,
        p.getOrDefault("artifact.store", "target/artifacts"),
        Arrays.stream(p.getOrDefault("architectures", "mlp,two_tower").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .map(TrainerConfig::trainable)
            .toList(),
        h,
        // checked here, naming the key: --days 0 failed only after a Kafka producer had started
        p.containsKey("data.window.ms")
            ? Duration.ofMillis(longOf(p, "data.window.ms", 0, 1, Long.MAX_VALUE))
            : Duration.ofDays(intOf(p, "data.days", 7, 1, Integer.MAX_VALUE)),
        instant(p, "data.from"),
        instant(p, "data.to"),
        Duration.ofMillis(longOf(p, "data.lateness.ms", 3_600_000)),
        Duration.ofMillis(longOf(p, "data.idle.timeout.ms", 60_000)),
        intOf(p, "min.examples", 10_000, 100, Integer.MAX_VALUE),
        intOf(p, "max.examples", DEFAULT_MAX_EXAMPLES, 100, Integer.MAX_VALUE),
        doubleOf(p, "promote.min.auc.gain", 0.01),
        intOf(
            p, "promote.min.clicks", ProductionEvaluator.DEFAULT_MIN_CLICKS, 1, Integer.MAX_VALUE),
        intOf(
            p,
            "model.artifact.max.bytes",
            ProductionEvaluator.DEFAULT_MAX_ARTIFACT_BYTES,
            1,
            Integer.MAX_VALUE - 8),
        intOf(p, "export.verify.rows", 5_000, ExportVerification.MIN_ROWS, Integer.MAX_VALUE),
        doubleOf(p, "export.verify.tolerance", 1e-5),
        intOf(p, "threads", 2, 1, Integer.MAX_VALUE),
        // a group per model: every model's commands are on the one retrain-commands topic, and in
        // a group shared by two models' trainers the one reading the partition commits past the
        // other's commands (not its model's), which the other then never reads
        p.getOrDefault("listen.group.id", "feedrank-trainer-" + modelName),
        Duration.ofMillis(longOf(p, "retrain.settle.ms", 0)),
        intOf(p, "retrain.attempts", 3, 1, Integer.MAX_VALUE),
        Duration.ofMillis(longOf(p, "retrain.retry.backoff.ms", 60_000)),
        p.getOrDefault("metrics.host", "127.0.0.1"),
        intOf(p, "metrics.port", 0, 0, 65535),
        overrides,
        AvroSerializer.autoRegister(p, true));
  }

  /**
   * The Kafka client settings every client of the trainer starts from: the trainer's default {@code
   * reconnect.backoff.max.ms}, then the {@code kafka.*} keys, then the bootstrap servers.
   */
  public Map<String, Object> kafka() {
    Map<String, Object> m = new HashMap<>();
    m.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
    m.putAll(kafkaOverrides);
    m.put("bootstrap.servers", bootstrapServers);
    return m;
  }

  private static void require(String v, String key) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing config " + key);
    }
  }

  private static Instant instant(Map<String, String> p, String key) {
    String v = p.get(key);
    try {
      return v == null || v.isBlank() ? null : Instant.parse(v.trim());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          key + " must be an ISO-8601 instant like 2026-11-01T00:00:00Z, got '" + v + "'", e);
    }
  }

  /** What a training rate or weight may be. */
  private enum Rate {
    DROPOUT("in [0, 1)"),
    POSITIVE("finite and > 0"),
    NON_NEGATIVE("finite and >= 0");

    final String bound;

    Rate(String bound) {
      this.bound = bound;
    }

    boolean admits(double v) {
      return switch (this) {
        case DROPOUT -> v >= 0 && v < 1;
        case POSITIVE -> v > 0 && v <= Float.MAX_VALUE;
        case NON_NEGATIVE -> v >= 0 && v <= Float.MAX_VALUE;
      };
    }
  }

  /**
   * A rate or weight of the training, refused naming its key when out of {@code kind}'s bounds: an
   * infinite learning rate or penalty was taken, and the run failed as "diverged ... a lower
   * learning rate may help", after the data was read; NaN failed as a hyperparameter without its
   * key.
   */
  private static float rate(Map<String, String> p, String key, float def, Rate kind) {
    double v = doubleOf(p, key, def);
    if (!kind.admits(v)) {
      throw new IllegalArgumentException(key + " must be " + kind.bound + ", got " + p.get(key));
    }
    return (float) v;
  }

  /**
   * {@code batch.size}, at least {@link NetworkTrainer#MIN_BATCH_ROWS}: a batch of one row is
   * skipped (BatchNorm cannot normalise it), so with 1 every batch was, nothing was trained, and
   * the random initial network could still be registered and promoted.
   */
  private static int batchSize(Map<String, String> p, int dflt) {
    long v = longOf(p, "batch.size", dflt);
    if (v < NetworkTrainer.MIN_BATCH_ROWS) {
      throw new IllegalArgumentException(
          "batch.size must be >= "
              + NetworkTrainer.MIN_BATCH_ROWS
              + ", got "
              + v
              + ": the networks' BatchNorm needs two rows a batch and skips a smaller one, so"
              + " nothing would be trained");
    }
    return intOf(p, "batch.size", dflt, NetworkTrainer.MIN_BATCH_ROWS, Integer.MAX_VALUE);
  }

  private static int[] ints(Map<String, String> p, String key, int[] dflt) {
    String v = p.get(key);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      return Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key + " must be comma-separated integers, got '" + v + "'", e);
    }
  }
}
