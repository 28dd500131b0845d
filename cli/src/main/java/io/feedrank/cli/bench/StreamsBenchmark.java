package io.feedrank.cli.bench;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.localstack.LocalStack;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import io.feedrank.streams.FeaturesConfig;
import io.feedrank.streams.topology.FeatureTopology;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import redis.clients.jedis.Jedis;

/**
 * {@code ./feedrank bench streams}. Per run, on one local stack with fresh topics: (1) publish a
 * backlog of simulator events; (2) baseline: a plain consumer reads the same topic raw; (3) the
 * features app (exactly-once v2) processes the backlog — throughput until every input and
 * repartition offset is committed; (4) freshness: with the app caught up and simulated traffic
 * flowing in real time at a fixed rate, probe events are produced one at a time and timed until
 * their user's hash in Redis shows them.
 */
@Command(
    name = "streams",
    mixinStandardHelpOptions = true,
    description = "Features app throughput (EOS) and freshness.")
final class StreamsBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--runs",
      defaultValue = "3",
      description = "runs; figures are medians (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--events",
      defaultValue = "1000000",
      description = "backlog events per run (default ${DEFAULT-VALUE})")
  int events;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "stream threads (default ${DEFAULT-VALUE})")
  int threads;

  @Option(
      names = "--users",
      description =
          "simulated users (default: the simulator's, "
              + SimulatorConfig.DEFAULT_USERS
              + "); more users, more state in RocksDB")
  int users = SimulatorConfig.DEFAULT_USERS;

  @Option(
      names = "--freshness-rate",
      defaultValue = "2000",
      description =
          "background events/s during the freshness phase (default ${DEFAULT-VALUE}; at 10,000 the"
              + " simulator and the app outran two cores and probes queued behind a growing lag)")
  int freshnessRate;

  @Option(
      names = "--probes",
      defaultValue = "300",
      description = "freshness probes per run (default ${DEFAULT-VALUE})")
  int probes;

  @Option(
      names = "--jit-quiet",
      defaultValue = "50",
      description =
          "the warm rate is measured from the first moment the JIT threads used at most this many"
              + " CPU ms per second over the previous 5 s (or from half the backlog if they never"
              + " did) to 90%% of the backlog (default ${DEFAULT-VALUE})")
  double jitQuiet;

  @Option(
      names = "--config",
      paramLabel = "KEY=VALUE",
      description =
          "features app config to set for the runs, e.g. redis.flush.interval.ms=200 or"
              + " kafka.<streams property>=...; repeatable")
  Map<String, String> config = new LinkedHashMap<>();

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  @Override
  public Integer call() throws Exception {
    BenchCommand.atLeastOne(
        spec, "--runs", runs, "--events", events, "--threads", threads, "--users", users);
    PrintWriter w = spec.commandLine().getOut();
    BenchReport report = new BenchReport("streams");
    report.note("events_per_run", events);
    report.note("stream_threads", threads);
    report.note("users", users);
    report.note("freshness_background_events_per_s", freshnessRate);
    report.note("warm_from_jit_below_cpu_ms_per_s", jitQuiet);
    config.forEach((k, v) -> report.note("config " + k, v));
    report.note(
        "setup",
        "12-partition topics, exactly_once_v2, the app's commit.interval.ms (500 unless --config"
            + " sets it), Redis flush every 100 ms; the app runs as `feedrank streams` in a JVM of"
            + " its own (Parallel GC), the broker in the benchmark's JVM; all share the 2 cores with"
            + " Redis and the registry");
    Path home = Paths.get(System.getenv().getOrDefault("FEEDRANK_HOME", "."));
    try (LocalStack stack = LocalStack.builder().build().start()) {
      for (int run = 1; run <= runs; run++) {
        Map<String, Double> f = oneRun(stack, run, home);
        report.addRun(f);
        w.printf("run %d: %s%n", run, f);
        w.flush();
      }
    }
    Path file = report.write(out != null ? out : BenchReport.defaultDir());
    w.printf("medians: %s%nwritten %s%n", report.figures(), file);
    return 0;
  }

  private Map<String, Double> oneRun(LocalStack stack, int run, Path home) throws Exception {
    String suffix = "-bench" + run + "-" + System.currentTimeMillis();
    List<Topics.TopicSpec> specs = new ArrayList<>();
    for (String t :
        List.of(
            Topics.INTERACTIONS,
            Topics.USERS,
            Topics.ITEMS,
            Topics.INTERACTIONS_DLQ,
            Topics.TRAINING_EXAMPLES)) {
      specs.add(Topics.byName(t).orElseThrow().renamed(t + suffix));
    }
    stack.createTopics(specs);
    String interactions = Topics.INTERACTIONS + suffix;
    Map<String, Double> f = new LinkedHashMap<>();

    // (1) backlog whose event time ends ~10 minutes ago, so real-time traffic continues it
    double perEventSecond = SimulatorConfig.DEFAULT_EVENTS_PER_EVENT_SECOND;
    Instant start = Instant.now().minusSeconds((long) (events / perEventSecond / 0.7) + 600);
    SimulatorConfig sim =
        SimulatorConfig.defaults(run, start).withPopulation(users, SimulatorConfig.DEFAULT_ITEMS);
    SimulatorPublisher.TopicNames simTopics =
        new SimulatorPublisher.TopicNames(
            interactions, Topics.USERS + suffix, Topics.ITEMS + suffix);
    try (SimulatorPublisher p = new SimulatorPublisher(stack.clientConfig(), simTopics)) {
      p.publish(
          new InteractionSimulator(sim),
          new SimulatorPublisher.Run(events, null, 0, true),
          () -> false);
    }

    // (2) baseline: the same topic read raw by a plain consumer
    f.put("raw_consume_events_per_s", rawConsume(stack, interactions));

    // (3) the features app on the backlog
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("redis.uri", stack.redisUri());
    c.put("application.id", "bench-features" + suffix);
    c.put(
        "state.dir",
        home.toAbsolutePath()
            .resolve("target")
            .resolve("bench-state")
            .resolve("run" + run)
            .toString());
    c.put("topic.suffix", suffix);
    c.put("num.stream.threads", Integer.toString(threads));
    c.put("metrics.port", "0");
    c.putAll(config);
    FeaturesConfig.from(c); // refuse a bad --config here, not in the child
    Path work = Files.createDirectories(home.resolve("target").resolve("bench-streams"));
    long t0 = System.nanoTime();
    try (FeaturesProcess app = FeaturesProcess.start(c, work, "features-run" + run)) {
      Progress progress = new Progress(events / 10, app::jitCpuMillis);
      Map<String, Long> pids = new LinkedHashMap<>();
      pids.put("app", app.pid());
      pids.putAll(stack.processes());
      CpuUse cpuBefore = CpuUse.read(pids);
      awaitCaughtUp(
          stack,
          "bench-features" + suffix,
          interactions,
          Duration.ofMinutes(20),
          progress,
          app::checkAlive);
      long done = System.nanoTime();
      if (progress.committed < 0 || progress.committed >= events) {
        progress.committed = 0; // caught up between two polls: no separate sustained phase seen
        progress.nanos = t0;
      }
      double seconds = (done - t0) / 1e9;
      // where the cores went during the backlog: the app, the broker's JVM (this one), Redis,
      // the registry, and the machine as a whole
      CpuUse.read(pids)
          .since(cpuBefore)
          .forEach((k, v) -> f.put("backlog_cpu_cores_" + k, v / 1000 / seconds));
      f.put("events_per_s", events / seconds);
      // the app JVM's peak resident memory so far: heap, RocksDB's native memory and the rest
      f.put("app_rss_peak_mb", app.residentPeakMegabytes());
      f.put("startup_to_first_tenth_s", (progress.nanos - t0) / 1e9);
      f.put(
          "sustained_events_per_s",
          (events - progress.committed) / ((done - progress.nanos) / 1e9));
      f.put("raw_to_streams_ratio", f.get("raw_consume_events_per_s") / f.get("events_per_s"));
      progress.observe(events, events, done);
      Progress.Warm warm = progress.warm(events, jitQuiet);
      f.put("warm_events_per_s", warm.eventsPerSecond());
      f.put("warm_completed_events_per_s", warm.completedPerSecond());
      f.put("warm_window_s", warm.seconds());
      f.put("warm_from_fraction", warm.fromFraction());
      f.put("warm_jit_cpu_ms_per_s", warm.jitMillisPerSecond());
      spec.commandLine().getOut().printf("run %d: backlog done: %s%n", run, f);
      spec.commandLine().getOut().flush();

      // (4) freshness under steady real-time traffic
      double[] latencies = freshness(stack, run, sim, simTopics, interactions);
      Arrays.sort(latencies);
      f.put("freshness_p50_ms", percentile(latencies, 0.50));
      f.put("freshness_p99_ms", percentile(latencies, 0.99));
      f.put("freshness_max_ms", latencies[latencies.length - 1]);
    }
    return f;
  }

  private double rawConsume(LocalStack stack, String topic) {
    Map<String, Object> cc = new HashMap<>();
    cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    cc.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      long n = 0;
      long t = System.nanoTime();
      while (n < events) {
        n += consumer.poll(Duration.ofMillis(500)).count();
      }
      return n / ((System.nanoTime() - t) / 1e9);
    }
  }

  /**
   * Until the app has committed every input offset and (within a commit marker) every repartition
   * offset.
   */
  private static void awaitCaughtUp(
      LocalStack stack,
      String appId,
      String input,
      Duration timeout,
      Progress progress,
      Runnable checkAlive)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = stack.admin()) {
      while (System.nanoTime() < deadline) {
        checkAlive.run();
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets(appId)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        if (!committed.isEmpty()) {
          var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
          boolean inputDone =
              committed.keySet().stream().filter(tp -> tp.topic().equals(input)).count()
                  == Topics.DEFAULT_INTERACTION_PARTITIONS;
          progress.observe(
              committedSum(committed, input),
              committedSum(committed, FeatureTopology.repartitionTopic(appId)));
          for (var e : committed.entrySet()) {
            long lag =
                ends.get(e.getKey()).offset() - (e.getValue() == null ? 0 : e.getValue().offset());
            long allowed =
                e.getKey().topic().equals(input)
                    ? 0
                    : 1; // a transaction marker after the last record
            inputDone &= lag <= allowed;
          }
          if (inputDone) {
            return;
          }
        }
        Thread.sleep(200);
      }
    }
    throw new IllegalStateException("the features app did not catch up within " + timeout);
  }

  private static long committedSum(Map<TopicPartition, OffsetAndMetadata> committed, String topic) {
    return committed.entrySet().stream()
        .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
        .mapToLong(e -> e.getValue().offset())
        .sum();
  }

  /**
   * The input offsets the app had committed over time, with the repartition topic's (each valid
   * event's second half: its item features and training example, done) and the CPU time of the app
   * JVM's JIT threads. The sustained rate is measured from the first moment {@code threshold}
   * events were committed, without start-up, restore of the global tables and the first rebalance;
   * the warm rate from the moment the JIT had gone quiet as well, to 90% of the backlog (the last
   * partitions and the repartition topic draining leave the app partly idle).
   */
  static final class Progress {
    private static final long LOOK_BACK = TimeUnit.SECONDS.toNanos(5);
    private final long threshold;
    private final DoubleSupplier jitCpuMillis;
    // nanos, committed input, JIT CPU ms, committed repartition
    private final List<double[]> samples = new ArrayList<>();
    long nanos;
    long committed = -1;

    Progress(long threshold, DoubleSupplier jitCpuMillis) {
      this.threshold = threshold;
      this.jitCpuMillis = jitCpuMillis;
    }

    void observe(long committedInput, long completed) {
      observe(committedInput, completed, System.nanoTime());
    }

    void observe(long committedInput, long completed, long at) {
      observe(committedInput, completed, at, jitCpuMillis.getAsDouble());
    }

    /**
     * @param completed the repartition topic's committed offsets: events whose item side is done
     *     (transaction markers count too, about 50 a second against tens of thousands of events)
     */
    void observe(long committedInput, long completed, long at, double jitCpuMillis) {
      samples.add(new double[] {at, committedInput, jitCpuMillis, completed});
      if (committed < 0 && committedInput >= threshold) {
        committed = committedInput;
        nanos = at;
      }
    }

    /**
     * @param eventsPerSecond input events committed per second in the window
     * @param completedPerSecond events whose item side was committed per second in the window: the
     *     input side can run ahead of the item side and leave it a backlog in the repartition topic
     */
    record Warm(
        double eventsPerSecond,
        double seconds,
        double fromFraction,
        double jitMillisPerSecond,
        double completedPerSecond) {}

    /**
     * From the first sample where the JIT threads used at most {@code jitQuiet} CPU ms/s over the
     * previous 5 s (or, if that never happened, where half the backlog was committed) to the first
     * where 90% was.
     */
    Warm warm(long events, double jitQuiet) {
      int end = samples.size() - 1;
      for (int i = 0; i < samples.size(); i++) {
        if (samples.get(i)[1] >= 0.9 * events) {
          end = i;
          break;
        }
      }
      int from = -1;
      int half = -1;
      for (int i = 0; i < end && from < 0; i++) {
        double[] now = samples.get(i);
        if (half < 0 && now[1] >= 0.5 * events) {
          half = i;
        }
        int j = i;
        while (j > 0 && now[0] - samples.get(j - 1)[0] <= LOOK_BACK) {
          j--;
        }
        double[] then = samples.get(j);
        double seconds = (now[0] - then[0]) / 1e9;
        if (now[1] > 0 && seconds >= 4 && (now[2] - then[2]) / seconds <= jitQuiet) {
          from = i;
        }
      }
      if (from < 0) {
        from = half >= 0 ? half : Math.max(0, end - 1);
      }
      double[] start = samples.get(from);
      double[] stop = samples.get(end);
      double seconds = (stop[0] - start[0]) / 1e9;
      return new Warm(
          (stop[1] - start[1]) / seconds,
          seconds,
          start[1] / events,
          (stop[2] - start[2]) / seconds,
          (stop[3] - start[3]) / seconds);
    }
  }

  private double[] freshness(
      LocalStack stack,
      int run,
      SimulatorConfig sim,
      SimulatorPublisher.TopicNames topics,
      String interactions)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread background =
        new Thread(
            () -> {
              try (SimulatorPublisher p = new SimulatorPublisher(stack.clientConfig(), topics)) {
                SimulatorConfig live =
                    SimulatorConfig.defaults(run + 1000, Instant.now())
                        .withPopulation(users, SimulatorConfig.DEFAULT_ITEMS)
                        .withRealTime(true);
                p.publish(
                    new InteractionSimulator(live),
                    new SimulatorPublisher.Run(0, Duration.ofMinutes(30), freshnessRate, false),
                    stop::get);
              }
            },
            "bench-background-traffic");
    background.start();
    Map<String, Object> pc = new HashMap<>(stack.clientConfig());
    pc.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    pc.put(ProducerConfig.ACKS_CONFIG, "all");
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
    double[] latencies = new double[probes];
    try (KafkaProducer<Long, InteractionEvent> producer =
            new KafkaProducer<>(pc, new LongSerializer(), ser);
        Jedis jedis = new Jedis(URI.create(stack.redisUri()))) {
      Thread.sleep(2_000); // let the background traffic reach its rate
      for (int i = 0; i < probes; i++) {
        long user = 50_000_000L + run * 100_000L + i;
        Instant now = Instant.now();
        InteractionEvent probe =
            InteractionEvent.newBuilder()
                .setInteractionId("probe-" + run + "-" + i)
                .setUserId(user)
                .setItemId(1)
                .setEventTime(now)
                .setClick(true)
                .setLike(false)
                .setShare(false)
                .setDwellSeconds(3f)
                .setDevice(Device.MOBILE)
                .build();
        long t0 = System.nanoTime();
        producer.send(new ProducerRecord<>(interactions, null, now.toEpochMilli(), user, probe));
        String key = "fr:u:" + user;
        while (jedis.hget(key, "_ts") == null) {
          if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(30)) {
            throw new IllegalStateException("probe " + i + " not visible in Redis after 30 s");
          }
          LockSupport.parkNanos(500_000); // poll every 0.5 ms without burning a core
        }
        latencies[i] = (System.nanoTime() - t0) / 1e6;
        Thread.sleep(20);
      }
    } finally {
      stop.set(true);
      background.join(30_000);
    }
    return latencies;
  }

  private static double percentile(double[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
