package io.feedrank.cli.bench;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.drift.DriftConfig;
import io.feedrank.drift.DriftMain;
import io.feedrank.drift.LocalFlink;
import io.feedrank.drift.io.RegistryRecords;
import io.feedrank.drift.job.DriftJob;
import io.feedrank.drift.job.DriftThresholdsConfig;
import io.feedrank.drift.job.FeatureValue;
import io.feedrank.drift.job.Report;
import io.feedrank.drift.job.ServingReference;
import io.feedrank.events.DriftReport;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import io.feedrank.localstack.LocalStack;
import io.feedrank.models.profile.ProfileBuilder;
import io.feedrank.models.profile.TrainingProfiles;
import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank bench drift}: (1) throughput — simulator examples on the local stack's Kafka,
 * the job (parallelism 2, every profiled feature monitored) reads them to the end: feature rows per
 * second of job wall time; (1b) score throughput — ranking logs of 100 scores each, read to the
 * end: scores per second (prediction drift's input, all of it one key); (2) detection — one numeric
 * feature, reference N(0, 1), windows of {@code --window-sample} values, 20 stationary windows then
 * N(δ, 1) with δ = √PSI (a mean shift of δ gives PSI ≈ δ² on decile bins): windows from the shift
 * to the retrain command; (3) false alarms — 1,000 stationary windows: drifted windows per 1,000.
 */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    description = "Drift job throughput, detection delay and false alarms.")
final class DriftBenchmark implements Callable<Integer> {
  static final int SCORES_PER_RESPONSE = 100;

  @Spec CommandSpec spec;

  @Option(names = "--runs", defaultValue = "3", description = "runs (default ${DEFAULT-VALUE})")
  int runs;

  @Option(names = "--examples", defaultValue = "100000", description = "examples for throughput")
  int examples;

  @Option(
      names = "--responses",
      defaultValue = "50000",
      description = "ranking logs of 100 scores each for the score throughput")
  int responses;

  @Option(names = "--window-sample", defaultValue = "2000", description = "values per window")
  int windowSample;

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  static final long W = 60_000;

  @Override
  public Integer call() throws Exception {
    BenchCommand.atLeastOne(
        spec,
        "--runs",
        runs,
        "--examples",
        examples,
        "--responses",
        responses,
        "--window-sample",
        windowSample);
    PrintWriter w = spec.commandLine().getOut();
    BenchReport report = new BenchReport("drift");
    report.note(
        "throughput",
        examples
            + " simulator examples, all "
            + (FeatureSchema.USER.size()
                + FeatureSchema.ITEM.size()
                + FeatureSchema.CROSS.size()
                + 3)
            + " profiled features monitored, parallelism 2, 5-minute windows, Kafka in and out on the local stack");
    report.note(
        "score_throughput",
        responses
            + " ranking logs of "
            + SCORES_PER_RESPONSE
            + " scores, 50 per event-second, parallelism 2, 5-minute windows, Kafka in and out");
    report.note(
        "detection",
        "one numeric feature, reference 100,000 draws of N(0,1), "
            + windowSample
            + " values per 1-minute window, persistence 2, min sample 500, PSI 0.2 / KS 0.1 at p 0.01");
    try (LocalStack stack = LocalStack.builder().build().start()) {
      for (int run = 1; run <= runs; run++) {
        Map<String, Double> f = new LinkedHashMap<>();
        f.put("rows_per_s", throughput(stack, run, w));
        f.put("score_rows_per_s", scoreThroughput(stack, run, w));
        for (double psi : new double[] {0.1, 0.2, 0.5}) {
          String k = psiKey(psi);
          double[] d = detection(run, psi);
          f.put("detect_windows_psi_" + k, d[0]);
          f.put("measured_psi_" + k, d[1]);
        }
        double[] fa = falseAlarms(run);
        f.put("false_alarms_per_1000_windows", fa[0]);
        f.put("stationary_windows_evaluated", fa[1]);
        w.printf("run %d: %s%n", run, f);
        w.flush();
        report.addRun(f);
      }
    }
    w.println("medians: " + report.figures());
    w.println("written " + report.write(out != null ? out : BenchReport.defaultDir()));
    return 0;
  }

  /**
   * {@code psi} as the suffix of a figure's key, {@code 0_1}: in the root locale, as the keys of
   * the written figures must not depend on the machine's (with LANG=de_DE they were {@code 0,1}).
   */
  static String psiKey(double psi) {
    return String.format(Locale.ROOT, "%.1f", psi).replace('.', '_');
  }

  private double throughput(LocalStack stack, int run, PrintWriter w) throws Exception {
    String id = "bench-" + run + "-" + System.nanoTime();
    createTopics(stack, id);
    Instant start = Instant.now().minus(6, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
    List<TrainingExample> all = new ArrayList<>(examples);
    new SimulatedExamples(SimulatorConfig.defaults(run, start), examples)
        .forEachRemaining(all::add);
    publish(
        stack,
        "examples-" + id,
        new LongSerializer(),
        all,
        TrainingExample::getUserId,
        e -> e.getEventTime().toEpochMilli());
    register(stack, id, TrainingProfiles.of(all.subList(0, Math.min(20_000, all.size())), null));
    Map<String, String> c = jobConfig(stack, id);
    c.put("monitored.features", "*");
    double seconds = runJob(c, "bench-drift-" + run);
    long rows =
        (long) examples
            * (FeatureSchema.USER.size()
                + FeatureSchema.ITEM.size()
                + FeatureSchema.CROSS.size()
                + 3);
    long[] seen = observations(stack, "reports-" + id);
    w.printf(
        "run %d: %,d rows in %.1f s; the reports account for %,d%n", run, rows, seconds, seen[0]);
    if (seen[0] != rows) {
      throw new IllegalStateException(
          "the job's reports count " + seen[0] + " observations of " + rows + " rows");
    }
    return rows / seconds;
  }

  /**
   * Prediction drift's input: {@code --responses} ranking logs of 100 scores each on the local
   * stack's Kafka, read to the end by the job (nothing else on its inputs): scores per second of
   * job wall time, start-up included. The scores all go to one key ({@code score}); the reports
   * must account for every score and every response.
   */
  private double scoreThroughput(LocalStack stack, int run, PrintWriter w) throws Exception {
    String id = "bench-scores-" + run + "-" + System.nanoTime();
    createTopics(stack, id);
    Random r = new Random(run);
    ProfileBuilder ref = new ProfileBuilder();
    for (int i = 0; i < 20_000; i++) {
      ref.score(sigmoid(-1 + r.nextGaussian()));
    }
    register(stack, id, ref.build(20_000));
    long t0 = Instant.now().minus(6, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS).toEpochMilli();
    List<RankingLog> logs = new ArrayList<>(responses);
    for (int k = 0; k < responses; k++) {
      double level = -1 + r.nextGaussian();
      List<RankedItem> items = new ArrayList<>(SCORES_PER_RESPONSE);
      for (int j = 0; j < SCORES_PER_RESPONSE; j++) {
        items.add(new RankedItem((long) j, (float) sigmoid(level + 0.3 * r.nextGaussian()), j + 1));
      }
      logs.add(
          RankingLog.newBuilder()
              .setRequestId(id + "-" + k)
              .setTimestamp(Instant.ofEpochMilli(t0 + k * 20L)) // 50 responses per event-second
              .setUserId(r.nextInt(10_000))
              .setModelName(id)
              .setModelVersion("ref")
              .setVariant("production")
              .setItems(items)
              .setLatencyMs(3.0)
              .setFeatureSchemaVersion(FeatureSchema.VERSION)
              .build());
    }
    publish(
        stack,
        "logs-" + id,
        new StringSerializer(),
        logs,
        RankingLog::getRequestId,
        l -> l.getTimestamp().toEpochMilli());
    double seconds = runJob(jobConfig(stack, id), "bench-drift-scores-" + run);
    long rows = (long) responses * SCORES_PER_RESPONSE;
    long[] seen = observations(stack, "reports-" + id);
    w.printf(
        "run %d: %,d scores of %,d responses in %.1f s; the reports account for %,d of %,d%n",
        run, rows, responses, seconds, seen[0], seen[1]);
    if (seen[0] != rows || seen[1] != responses) {
      throw new IllegalStateException(
          "the job's reports count " + seen[0] + " scores of " + seen[1] + " responses");
    }
    return rows / seconds;
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** This run's input and output topics, named {@code <what>-<id>}. */
  private static void createTopics(LocalStack stack, String id) {
    Map<String, String> bases =
        Map.of(
            "examples-", Topics.TRAINING_EXAMPLES,
            "logs-", Topics.RANKING_LOGS,
            "interactions-", Topics.INTERACTIONS,
            "reports-", Topics.DRIFT_REPORTS,
            "alerts-", Topics.ALERTS,
            "commands-", Topics.RETRAIN_COMMANDS,
            "ctr-", Topics.ONLINE_CTR);
    bases.forEach(
        (prefix, base) ->
            stack.createTopics(List.of(Topics.byName(base).orElseThrow().renamed(prefix + id))));
  }

  private static <K, T extends SpecificRecord> void publish(
      LocalStack stack,
      String topic,
      Serializer<K> keys,
      List<T> records,
      Function<T, K> key,
      Function<T, Long> time) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    AvroSerializer<T> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<K, T> producer = new KafkaProducer<>(p, keys, values)) {
      for (T v : records) {
        producer.send(new ProducerRecord<>(topic, null, time.apply(v), key.apply(v), v));
      }
    }
  }

  /** Model {@code id}'s version {@code ref}, in production with {@code profile}. */
  private static void register(LocalStack stack, String id, ReferenceProfile profile) {
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName(id)
            .setVersion("ref")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(Instant.now())
            .setUpdatedAt(Instant.now())
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setReferenceProfile(profile)
            .build();
    publish(
        stack,
        Topics.MODEL_REGISTRY,
        new StringSerializer(),
        List.of(v),
        x -> Topics.modelRegistryKey(id, "ref"),
        x -> System.currentTimeMillis());
  }

  /** The job on this run's topics: bounded, from the earliest offsets, parallelism 2. */
  private static Map<String, String> jobConfig(LocalStack stack, String id) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("model.name", id);
    c.put("training.examples.topic", "examples-" + id);
    c.put("ranking.logs.topic", "logs-" + id);
    c.put("interactions.topic", "interactions-" + id);
    c.put("drift.reports.topic", "reports-" + id);
    c.put("alerts.topic", "alerts-" + id);
    c.put("retrain.commands.topic", "commands-" + id);
    c.put("online.ctr.topic", "ctr-" + id);
    c.put("group.id", id);
    c.put("from.earliest", "true");
    c.put("bounded", "true");
    c.put("parallelism", "2");
    return c;
  }

  /** Runs the job to its end: seconds from {@code execute()} on, start-up included. */
  private static double runJob(Map<String, String> config, String name) throws Exception {
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(LocalFlink.loopback());
    DriftMain.build(env, DriftConfig.from(config));
    long t0 = System.nanoTime();
    env.execute(name);
    return (System.nanoTime() - t0) / 1e9;
  }

  /**
   * What the job's reports account for: the sums of {@code n} and of {@code sample_size} over every
   * report.
   */
  private static long[] observations(LocalStack stack, String topic) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put(AvroDeserializer.VALUE_TYPE, DriftReport.class.getName());
    AvroDeserializer<DriftReport> d = new AvroDeserializer<>();
    d.configure(p, false);
    long n = 0;
    long sample = 0;
    try (KafkaConsumer<byte[], DriftReport> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), d)) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          n += r.value().getN();
          sample += r.value().getSampleSize();
        }
      }
    }
    return new long[] {n, sample};
  }

  private static ServingReference reference(long seed) throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    Random r = new Random(seed);
    for (int i = 0; i < 100_000; i++) {
      b.add(x, r.nextGaussian());
    }
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName("synthetic")
            .setVersion("ref")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(Instant.EPOCH)
            .setUpdatedAt(Instant.EPOCH)
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setReferenceProfile(b.build(100_000))
            .build();
    return RegistryRecords.of(v);
  }

  private List<FeatureValue> windows(Random r, int from, int count, double shift) {
    List<FeatureValue> out = new ArrayList<>();
    for (int k = from; k < from + count; k++) {
      for (int i = 0; i < windowSample; i++) {
        long t = k * W + (long) i * W / windowSample;
        out.add(FeatureValue.numeric("x", "NUMERIC", r.nextGaussian() + shift, t));
      }
    }
    return out;
  }

  private static DriftJob.Outputs job(
      StreamExecutionEnvironment env, List<FeatureValue> values, ServingReference ref) {
    env.setParallelism(2);
    DataStream<FeatureValue> v =
        env.fromData(values)
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<FeatureValue>forMonotonousTimestamps()
                    .withTimestampAssigner((x, ts) -> x.eventTime));
    DataStream<ServingReference> registry = env.fromData(ref);
    return DriftJob.build(
        v,
        registry,
        new DriftJob.Settings(
            "synthetic",
            Duration.ofMillis(W),
            DriftThresholdsConfig.defaults(),
            2,
            500,
            Duration.ZERO,
            0,
            Duration.ZERO));
  }

  /** Windows from the shift to the command, and the mean PSI of the shifted windows. */
  private double[] detection(int run, double psi) throws Exception {
    Random r = new Random(run * 31L + (long) (psi * 100));
    List<FeatureValue> values = windows(r, 0, 20, 0);
    values.addAll(windows(r, 20, 10, Math.sqrt(psi)));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(LocalFlink.loopback());
    DriftJob.Outputs o = job(env, values, reference(run));
    List<io.feedrank.drift.job.Command> commands = new ArrayList<>();
    List<Report> reports = new ArrayList<>();
    o.reports().executeAndCollect().forEachRemaining(reports::add);
    StreamExecutionEnvironment env2 =
        StreamExecutionEnvironment.getExecutionEnvironment(LocalFlink.loopback());
    job(env2, values, reference(run))
        .commands()
        .executeAndCollect()
        .forEachRemaining(commands::add);
    double measured =
        reports.stream()
            .filter(x -> x.windowStart >= 20 * W)
            .mapToDouble(x -> x.psi)
            .average()
            .orElse(Double.NaN);
    double delay =
        commands.isEmpty()
            ? Double.POSITIVE_INFINITY
            : (commands.get(0).issuedAt - 20 * W) / (double) W;
    return new double[] {delay, measured};
  }

  /** Drifted windows per 1,000, and how many windows were evaluated (all 1,000, or a loss). */
  private double[] falseAlarms(int run) throws Exception {
    Random r = new Random(run * 7919L);
    List<FeatureValue> values = windows(r, 0, 1000, 0);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(LocalFlink.loopback());
    List<Report> reports = new ArrayList<>();
    job(env, values, reference(run)).reports().executeAndCollect().forEachRemaining(reports::add);
    long drifted = reports.stream().filter(x -> x.drifted).count();
    return new double[] {drifted * 1000.0 / reports.size(), reports.size()};
  }
}
