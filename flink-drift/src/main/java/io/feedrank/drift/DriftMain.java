package io.feedrank.drift;

import io.feedrank.avro.ConfigMap;
import io.feedrank.drift.io.AvroRecords;
import io.feedrank.drift.io.Contracts;
import io.feedrank.drift.io.EngagedImpressions;
import io.feedrank.drift.io.ExampleFeatures;
import io.feedrank.drift.io.RankingScores;
import io.feedrank.drift.io.RegistryRecords;
import io.feedrank.drift.io.ServedResponses;
import io.feedrank.drift.job.AlertEvent;
import io.feedrank.drift.job.Command;
import io.feedrank.drift.job.DriftJob;
import io.feedrank.drift.job.FeatureValue;
import io.feedrank.drift.job.OnlineCtr;
import io.feedrank.drift.job.Report;
import io.feedrank.drift.job.RetrainDecider;
import io.feedrank.drift.job.ServingReference;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Wires {@link DriftJob} and {@link OnlineCtr} onto Kafka: {@code training-examples}, {@code
 * ranking-logs} and {@code interactions} in (read_committed, event-time watermarks with bounded
 * out-of-orderness and idleness, records stamped before 1970 or further ahead of the clock than
 * {@code max.ahead.of.clock.ms} skipped before they reach them: {@link
 * io.feedrank.drift.io.EventTimeBound}; each source in its own consumer group, started from the
 * group's committed offsets, see {@link #startingOffsets}), {@code model-registry} in from its
 * beginning, {@code drift-reports}, {@code retrain-commands}, {@code alerts} and {@code online-ctr}
 * out, flushed on every checkpoint (at least once, or exactly once with {@code
 * delivery.guarantee=exactly-once}; see {@link #sink}). {@code main} runs it where it is started: a
 * local MiniCluster, or a Flink cluster ({@code flink run}) with the configuration as {@code --key
 * value} arguments.
 */
public final class DriftMain {
  private DriftMain() {}

  public static void build(StreamExecutionEnvironment env, DriftConfig c) {
    env.setParallelism(c.parallelism());
    env.enableCheckpointing(c.checkpointInterval().toMillis());
    WatermarkStrategy<FeatureValue> watermarks =
        WatermarkStrategy.<FeatureValue>forBoundedOutOfOrderness(c.outOfOrderness())
            .withTimestampAssigner((v, ts) -> v.eventTime)
            .withIdleness(c.idleness());
    DataStream<FeatureValue> examples =
        env.fromSource(
                source(
                    c,
                    c.examplesTopic(),
                    new ExampleFeatures(c.registry(), c.monitored(), c.eventTimes()),
                    "examples",
                    c.fromEarliest()),
                watermarks,
                "training-examples")
            .uid("source-training-examples");
    DataStream<FeatureValue> scores =
        env.fromSource(
                source(
                    c,
                    c.rankingLogsTopic(),
                    new RankingScores(c.registry(), c.settings().modelName(), c.eventTimes()),
                    "scores",
                    c.fromEarliest()),
                watermarks,
                "ranking-logs")
            .uid("source-ranking-logs");
    DataStream<ServingReference> registry =
        env.fromSource(
                source(
                    c, c.modelRegistryTopic(), new RegistryRecords(c.registry()), "registry", true),
                DriftJob.registryWatermarks(),
                "model-registry")
            .uid("source-model-registry");
    DriftJob.Outputs out = DriftJob.build(examples.union(scores), registry, c.settings());
    DataStream<OnlineCtr.Window> ctr =
        DriftJob.onlineCtr(
            env.fromSource(
                    source(
                        c,
                        c.rankingLogsTopic(),
                        new ServedResponses(c.registry(), c.settings().modelName(), c.eventTimes()),
                        "served",
                        c.fromEarliest()),
                    WatermarkStrategy.<OnlineCtr.Served>forBoundedOutOfOrderness(c.outOfOrderness())
                        .withTimestampAssigner((v, ts) -> v.time)
                        .withIdleness(c.idleness()),
                    "ranking-logs (served)")
                .uid("source-ranking-logs-served"),
            env.fromSource(
                    source(
                        c,
                        c.interactionsTopic(),
                        new EngagedImpressions(c.registry(), c.eventTimes()),
                        "interactions",
                        c.fromEarliest()),
                    WatermarkStrategy.<OnlineCtr.Engaged>forBoundedOutOfOrderness(
                            c.outOfOrderness())
                        .withTimestampAssigner((v, ts) -> v.time)
                        .withIdleness(c.idleness()),
                    "interactions")
                .uid("source-interactions"),
            c.attribution(),
            c.ctrWindow(),
            c.settings().gaugeExpiryWindows());
    String model = c.settings().modelName();
    long attribution = c.attribution().toMillis();
    ctr.sinkTo(
            sink(
                c,
                "online-ctr",
                new AvroRecords<OnlineCtr.Window, io.feedrank.events.OnlineCtrReport>(
                    c.onlineCtrTopic(),
                    c.registry(),
                    w -> Contracts.onlineCtr(w, model, attribution),
                    w -> model)))
        .name("online-ctr")
        .uid("sink-online-ctr");
    out.reports()
        .sinkTo(
            sink(
                c,
                "reports",
                new AvroRecords<Report, io.feedrank.events.DriftReport>(
                    c.reportsTopic(), c.registry(), Contracts::report, r -> r.feature)))
        .name("drift-reports")
        .uid("sink-drift-reports");
    SingleOutputStreamOperator<Command> drops =
        DriftJob.performanceDrops(ctr, registry, c.settings(), c.ctrDrop());
    out.commands()
        .union(drops)
        .sinkTo(
            sink(
                c,
                "commands",
                new AvroRecords<Command, io.feedrank.events.RetrainCommand>(
                    c.retrainTopic(), c.registry(), Contracts::command, x -> x.modelName)))
        .name("retrain-commands")
        .uid("sink-retrain-commands");
    out.alerts()
        .union(drops.getSideOutput(RetrainDecider.ALERTS))
        .sinkTo(
            sink(
                c,
                "alerts",
                new AvroRecords<AlertEvent, io.feedrank.events.Alert>(
                    c.alertsTopic(), c.registry(), Contracts::alert, a -> a.kind)))
        .name("alerts")
        .uid("sink-alerts");
  }

  /**
   * A source of {@code topic} in its own consumer group ({@link DriftConfig#groupId(String)} of
   * {@code name}): two sources of one topic in one group (the scores and the served responses both
   * read {@code ranking-logs}) committed over each other's offsets.
   */
  static <T> KafkaSource<T> source(
      DriftConfig c,
      String topic,
      KafkaRecordDeserializationSchema<T> values,
      String name,
      boolean earliest) {
    KafkaSourceBuilder<T> b = KafkaSource.<T>builder();
    b.setProperty(
        CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG,
        Integer.toString(ConfigMap.RECONNECT_BACKOFF_MAX_MS));
    b.setProperty(
        KafkaSourceOptions.PARTITION_DISCOVERY_INTERVAL_MS.key(),
        Long.toString(PARTITION_DISCOVERY_INTERVAL_MS));
    // the kafka.* keys next (credentials, TLS, client tuning): the job's own settings below win
    c.kafka().forEach(b::setProperty);
    b.setBootstrapServers(c.bootstrapServers())
        .setTopics(topic)
        .setGroupId(c.groupId(name))
        .setStartingOffsets(startingOffsets(earliest))
        .setDeserializer(values)
        .setProperty("isolation.level", "read_committed")
        .setProperty("commit.offsets.on.checkpoint", "true");
    if (c.bounded()) {
      b.setBounded(OffsetsInitializer.latest());
    }
    return b.build();
  }

  /**
   * How often an unbounded source looks for partitions added to its topic (a bounded one reads the
   * partitions it started with). A new partition is read from its beginning, but the source's
   * watermark does not go back for it: what was written to it before it was found and is older than
   * the watermark is late and dropped ({@code drift.values.late}, or the online CTR's late
   * impressions). At the connector's default of 5 minutes, partitions added to {@code interactions}
   * to scale streams-features out (or to any input) had minutes of their records dropped; found
   * within 10 s, well inside the default {@code out.of.orderness.ms} (30 s), they are not late.
   */
  static final long PARTITION_DISCOVERY_INTERVAL_MS = 10_000;

  /**
   * Where a source starts when the job starts from no checkpoint or savepoint (restored, it goes on
   * from the checkpoint's offsets): with {@code earliest}, at the topic's beginning; otherwise
   * where its consumer group's offsets were committed on the last completed checkpoint ({@code
   * commit.offsets.on.checkpoint}), or at the topic's end for partitions the group has none for (a
   * first start). {@code latest()}, as before, ignored the committed offsets: a restart without a
   * checkpoint skipped everything written while the job was down.
   */
  @SuppressWarnings("deprecation") // the connector (5.0.0-2.2) takes Kafka's OffsetResetStrategy
  static OffsetsInitializer startingOffsets(boolean earliest) {
    return earliest
        ? OffsetsInitializer.earliest()
        : OffsetsInitializer.committedOffsets(OffsetResetStrategy.LATEST);
  }

  static <T> KafkaSink<T> sink(
      DriftConfig c, String name, KafkaRecordSerializationSchema<T> records) {
    KafkaSinkBuilder<T> b = KafkaSink.<T>builder();
    b.setProperty(
        CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG,
        Integer.toString(ConfigMap.RECONNECT_BACKOFF_MAX_MS));
    c.kafka().forEach(b::setProperty); // as the sources: the job's own settings below win
    b.setBootstrapServers(c.bootstrapServers()).setRecordSerializer(records);
    if (!c.exactlyOnce()) {
      // the default where the job shares a JVM with kafka-clients 4.3 (./feedrank drift, the
      // MiniCluster tests): the connector's transactional writer (5.0.0-2.2) calls producer
      // internals 4.3 no longer has (NoSuchMethodError in
      // FlinkKafkaInternalProducer.flushNewPartitions). Outputs carry deterministic ids (a
      // command's id is model/reference/window, reports are keyed by feature and window), so a
      // replay after a restart repeats records the readers can recognise
      return b.setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE).build();
    }
    // one transaction per checkpoint and subtask, committed when the checkpoint completes; the
    // job jar brings the kafka-clients the connector was built against (its classes merged into
    // the jar, see the pom)
    return b.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(c.transactionalIdPrefix() + "-" + name)
        .setProperty("transaction.timeout.ms", Long.toString(TRANSACTION_TIMEOUT_MS))
        .build();
  }

  /**
   * Longer than any checkpoint takes, shorter than the brokers' default {@code
   * transaction.max.timeout.ms} (15 minutes), which rejects the connector's default of an hour.
   */
  static final long TRANSACTION_TIMEOUT_MS = 10 * 60 * 1000;

  /** Runs the job with {@code --key value} arguments (see {@link DriftConfig#from}). */
  public static void main(String[] args) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftConfig config = DriftConfig.from(arguments(args, System.getenv()));
    build(env, config);
    env.execute(config.jobName());
  }

  /**
   * The job's keys from {@code --key value} arguments; the registry's credentials, when no argument
   * gives them, from {@code FEEDRANK_REGISTRY_BASIC_AUTH} (user:password), as for the other
   * services: a password belongs in a Secret, and job arguments are shown by Flink's web UI and the
   * operator's resource.
   */
  static java.util.Map<String, String> arguments(String[] args, java.util.Map<String, String> env) {
    java.util.Map<String, String> conf = new java.util.HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      conf.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    String auth = env.get(REGISTRY_AUTH_ENV);
    if (auth != null
        && !auth.isBlank()
        && !conf.containsKey(io.feedrank.avro.registry.RegistryConfig.BASIC_AUTH_USER_INFO)) {
      conf.put(io.feedrank.avro.registry.RegistryConfig.BASIC_AUTH_USER_INFO, auth);
    }
    return conf;
  }

  /** The environment variable of the registry's basic auth (user:password). */
  static final String REGISTRY_AUTH_ENV = "FEEDRANK_REGISTRY_BASIC_AUTH";
}
