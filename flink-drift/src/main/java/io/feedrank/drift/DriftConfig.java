package io.feedrank.drift;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.drift.io.ExampleFeatures;
import io.feedrank.drift.job.DriftJob;
import io.feedrank.drift.job.DriftThresholdsConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Configuration of the drift job, validated on construction, from a flat string map (keys and
 * defaults on {@link #from} and in the README).
 */
public record DriftConfig(
    String bootstrapServers,
    Map<String, String> registry,
    String examplesTopic,
    String rankingLogsTopic,
    String interactionsTopic,
    String modelRegistryTopic,
    String reportsTopic,
    String alertsTopic,
    String retrainTopic,
    String onlineCtrTopic,
    String groupId,
    boolean fromEarliest,
    boolean bounded,
    Duration outOfOrderness,
    Duration idleness,
    Duration maxAheadOfClock,
    Duration checkpointInterval,
    Duration attribution,
    Duration ctrWindow,
    int parallelism,
    java.util.Set<String> monitored,
    boolean exactlyOnce,
    String transactionalIdPrefix,
    DriftJob.Settings settings,
    DriftJob.CtrDrop ctrDrop,
    Map<String, String> kafka) {

  public DriftConfig {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("missing config bootstrap.servers");
    }
    if (!registry.containsKey("schema.registry.url")) {
      throw new IllegalArgumentException("missing config schema.registry.url");
    }
    if (ctrWindow.toMillis() < 1) {
      throw new IllegalArgumentException("ctr.window.ms must be >= 1, got " + ctrWindow.toMillis());
    }
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
    }
    registry = Map.copyOf(registry);
    kafka = Map.copyOf(kafka);
  }

  /**
   * Keys (defaults in brackets): {@code bootstrap.servers}, {@code schema.registry.url} (required),
   * the registry's other keys ({@link RegistryConfig#fromMap}: credentials, retries, timeout);
   * {@code model.name} [feed-ranker]; {@code window.ms} [300000]; {@code out.of.orderness.ms}
   * [30000]; {@code idleness.ms} [60000]; {@code max.ahead.of.clock.ms} [{@code
   * out.of.orderness.ms}: a record whose event time is further ahead of the wall clock, or before
   * 1970, is skipped and counted before it can move a watermark, see {@link
   * io.feedrank.drift.io.EventTimeBound}; 9223372036854775807 (Long.MAX_VALUE) for no bound by the
   * clock, where simulated time runs ahead of it]; {@code psi.threshold} [0.2], {@code
   * ks.threshold} [0.1], {@code p.value.threshold} [0.01], {@code mean.change.threshold} [0.1];
   * {@code persistence.windows} [2]; {@code gauge.expiry.windows} [3] (a feature's drift gauges,
   * and a version and variant's online CTR, read no verdict once it has had no window for that many
   * windows while others have, and all of them once no window has closed for that many window
   * lengths of processing time: an alert on them resolves); {@code min.sample} [500] (in sampling
   * units: examples, or served responses for the score); {@code cooldown.ms} [3600000]; {@code
   * parallelism} [2]; {@code checkpoint.interval.ms} [10000]; {@code group.id}
   * [feedrank-drift-{@code <model.name>}] (each source has a group of its own, see {@link
   * #groupId(String)}); {@code from.earliest} [false: a start without a checkpoint goes on from
   * each source's committed offsets, or from the topics' end where none are committed; true: from
   * the topics' beginning]; {@code bounded} [false] (stop at the topics' end offsets: tests and
   * benchmarks); topic names as the other modules ({@code training.examples.topic}, {@code
   * ranking.logs.topic}, {@code model.registry.topic}, {@code drift.reports.topic}, {@code
   * alerts.topic}, {@code retrain.commands.topic}, {@code online.ctr.topic}); {@code
   * attribution.window.ms} [1800000]; {@code ctr.window.ms} [{@code window.ms}: the online CTR
   * windows, which a PERFORMANCE_DROP judges]; {@code ctr.drop.fraction} [0.2], {@code
   * ctr.baseline.windows} [3], {@code ctr.min.impressions} [1000] (a PERFORMANCE_DROP command: see
   * {@link io.feedrank.drift.job.CtrDropCommands}); {@code monitored.features} [{@value
   * #DEFAULT_MONITORED}; {@code *} for every profiled feature; a name not among {@link
   * ExampleFeatures#MONITORABLE} is refused] — model scores are always monitored; {@code
   * delivery.guarantee} [at-least-once] or {@code exactly-once} (transactional sinks, committed on
   * each checkpoint: needs the job jar's own kafka-clients, so a Flink cluster, not {@code
   * ./feedrank drift}, which refuses it: {@link LocalDriftJob#inThisJvm}; see the README); {@code
   * transactional.id.prefix} [the group id].
   */
  public static DriftConfig from(Map<String, String> values) {
    return ConfigMap.read(values, "the drift job", DriftConfig::read);
  }

  private static DriftConfig read(Map<String, String> p) {
    Map<String, String> kafka = ConfigMap.kafkaKeys(p);
    // the job's own settings win over kafka.*: these would be silently ignored
    ConfigMap.refuseKafkaDuplicates(kafka, Map.of("group.id", "group.id"), "the drift job");
    // every registry key, validated here (naming the key), as the sources' serdes read them
    Map<String, String> registry =
        p.get(RegistryConfig.URL) == null
            ? new HashMap<>()
            : new HashMap<>(RegistryConfig.fromMap(p).toMap());
    // the sinks' serializers (reports, alerts, commands) register their schema only if allowed
    registry.put(
        AvroSerializer.AUTO_REGISTER, Boolean.toString(AvroSerializer.autoRegister(p, true)));
    DriftThresholdsConfig t =
        new DriftThresholdsConfig(
            positive(p, "psi.threshold", 0.2),
            fraction(p, "ks.threshold", 0.1),
            fraction(p, "p.value.threshold", 0.01),
            positive(p, "mean.change.threshold", 0.1));
    DriftJob.Settings s =
        new DriftJob.Settings(
            p.getOrDefault("model.name", "feed-ranker"),
            Duration.ofMillis(whole(p, "window.ms", 300_000, 1)),
            t,
            intOf(p, "persistence.windows", 2, 1),
            whole(p, "min.sample", 500, 0),
            Duration.ofMillis(whole(p, "cooldown.ms", 3_600_000, 0)),
            whole(p, "data.volume.threshold", 1_000_000, 0),
            Duration.ofMillis(whole(p, "schedule.period.ms", 0, 0)),
            intOf(p, "gauge.expiry.windows", DriftJob.DEFAULT_GAUGE_EXPIRY_WINDOWS, 1));
    Duration outOfOrderness = Duration.ofMillis(whole(p, "out.of.orderness.ms", 30_000, 0));
    // one per model: two models' jobs in one group shared their sources' committed offsets, and
    // with one transactional id prefix their exactly-once sinks fenced each other's producers
    String groupId = p.getOrDefault("group.id", "feedrank-drift-" + s.modelName());
    return new DriftConfig(
        p.get("bootstrap.servers"),
        registry,
        p.getOrDefault("training.examples.topic", Topics.TRAINING_EXAMPLES),
        p.getOrDefault("ranking.logs.topic", Topics.RANKING_LOGS),
        p.getOrDefault("interactions.topic", Topics.INTERACTIONS),
        p.getOrDefault("model.registry.topic", Topics.MODEL_REGISTRY),
        p.getOrDefault("drift.reports.topic", Topics.DRIFT_REPORTS),
        p.getOrDefault("alerts.topic", Topics.ALERTS),
        p.getOrDefault("retrain.commands.topic", Topics.RETRAIN_COMMANDS),
        p.getOrDefault("online.ctr.topic", Topics.ONLINE_CTR),
        groupId,
        bool(p, "from.earliest"),
        bool(p, "bounded"),
        outOfOrderness,
        Duration.ofMillis(whole(p, "idleness.ms", 60_000, 1)),
        Duration.ofMillis(whole(p, "max.ahead.of.clock.ms", outOfOrderness.toMillis(), 0)),
        Duration.ofMillis(whole(p, "checkpoint.interval.ms", 10_000, 10)),
        Duration.ofMillis(whole(p, "attribution.window.ms", 1_800_000, 1)),
        Duration.ofMillis(whole(p, "ctr.window.ms", s.window().toMillis(), 1)),
        intOf(p, "parallelism", 2, 1),
        monitored(p.getOrDefault("monitored.features", DEFAULT_MONITORED)),
        exactlyOnce(p.getOrDefault("delivery.guarantee", "at-least-once")),
        p.getOrDefault("transactional.id.prefix", groupId),
        s,
        new DriftJob.CtrDrop(
            fraction(p, "ctr.drop.fraction", 0.2),
            intOf(p, "ctr.baseline.windows", 3, 1),
            whole(p, "ctr.min.impressions", 1_000, 0)),
        kafka);
  }

  /**
   * The consumer group of one of the job's Kafka sources: {@code group.id} followed by the source's
   * suffix — {@code -examples} (training-examples), {@code -scores} (ranking-logs, the model's
   * scores), {@code -served} (ranking-logs, the served responses of the online CTR), {@code
   * -interactions} and {@code -registry} (model-registry, always read from its beginning). The
   * sources commit their offsets on each checkpoint; in one group, the two sources of ranking-logs
   * committed over each other's, and a restart without a checkpoint resumed one of them from the
   * other's position.
   */
  public String groupId(String source) {
    return groupId + "-" + source;
  }

  /**
   * The Flink job's name, {@code feedrank-drift-<model.name>}: one per model, whatever {@code
   * group.id} says. Its metrics carry it as {@code job_name}, by which the alert rules and the
   * drift dashboard tell two models' jobs apart; under one name for every model their gauges
   * merged, and a job whose windows stopped closing hid behind the other's newer ones.
   */
  public String jobName() {
    return "feedrank-drift-" + settings.modelName();
  }

  /** The event times the Kafka sources of events take ({@code max.ahead.of.clock.ms}). */
  public io.feedrank.drift.io.EventTimeBound eventTimes() {
    return new io.feedrank.drift.io.EventTimeBound(maxAheadOfClock.toMillis());
  }

  /**
   * Monitored by default: what a stationary world keeps stationary. Counters, lifetime counts, ages
   * and the hour of day move with the clock in a healthy system (a 5-minute window of a 7-day
   * counter or of the hour is never distributed like a week of training data), so they are profiled
   * but only monitored when listed.
   */
  public static final String DEFAULT_MONITORED = "item_category,device,i_content_length";

  private static boolean exactlyOnce(String guarantee) {
    return switch (guarantee.trim().toLowerCase(Locale.ROOT)) {
      case "exactly-once", "exactly_once" -> true;
      case "at-least-once", "at_least_once" -> false;
      default ->
          throw new IllegalArgumentException(
              "delivery.guarantee must be at-least-once or exactly-once, got '" + guarantee + "'");
    };
  }

  private static java.util.Set<String> monitored(String list) {
    if (list.trim().equals("*")) {
      return null;
    }
    java.util.Set<String> s = new java.util.HashSet<>();
    java.util.Set<String> unknown = new java.util.TreeSet<>();
    for (String f : list.split(",")) {
      if (!f.isBlank()) {
        s.add(f.trim());
        if (!ExampleFeatures.MONITORABLE.contains(f.trim())) {
          unknown.add(f.trim());
        }
      }
    }
    if (!unknown.isEmpty()) {
      // a misspelt name matched no feature, and the job started watching none of those listed
      throw new IllegalArgumentException(
          "monitored.features names "
              + (unknown.size() == 1 ? "a feature" : "features")
              + " the job does not profile: "
              + String.join(", ", unknown)
              + "; it can monitor "
              + String.join(", ", ExampleFeatures.MONITORABLE)
              + ", or * for all");
    }
    return s;
  }

  private static double num(Map<String, String> p, String key, double dflt) {
    String v = p.get(key);
    try {
      return v == null || v.isBlank() ? dflt : Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
    }
  }

  /** A finite number above 0, or the default. */
  private static double positive(Map<String, String> p, String key, double dflt) {
    double d = num(p, key, dflt);
    if (!(d > 0) || !Double.isFinite(d)) {
      throw new IllegalArgumentException(key + " must be above 0.0, got " + p.get(key));
    }
    return d;
  }

  /** A number strictly between 0 and 1, or the default. */
  private static double fraction(Map<String, String> p, String key, double dflt) {
    double d = num(p, key, dflt);
    if (!(d > 0 && d < 1)) {
      throw new IllegalArgumentException(
          key + " must be above 0.0 and below 1.0, got " + p.get(key));
    }
    return d;
  }

  /** A whole number of at least {@code min}, or the default: 2.5 windows is refused, not cut. */
  private static long whole(Map<String, String> p, String key, long dflt, long min) {
    String v = p.get(key);
    long n;
    if (v == null || v.isBlank()) {
      n = dflt;
    } else {
      try {
        n = Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be a whole number, got '" + v + "'", e);
      }
    }
    if (n < min) {
      throw new IllegalArgumentException(key + " must be at least " + min + ", got " + n);
    }
    return n;
  }

  /**
   * A whole number within {@code min..}{@link Integer#MAX_VALUE}, or the default: a long is
   * refused, naming the key, not cut to its low bits (4294967298 windows were 2).
   */
  private static int intOf(Map<String, String> p, String key, int dflt, int min) {
    long n = whole(p, key, dflt, min);
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          key + " must be within " + min + ".." + Integer.MAX_VALUE + ", got " + n);
    }
    return (int) n;
  }

  /** true or false (any case), or false: a typo is refused, not read as false. */
  private static boolean bool(Map<String, String> p, String key) {
    String v = p.getOrDefault(key, "false").trim();
    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(key + " must be true or false, got '" + v + "'");
    }
    return Boolean.parseBoolean(v);
  }
}
