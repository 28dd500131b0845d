package io.feedrank.cli.demo;

import io.feedrank.drift.DriftConfig;
import io.feedrank.drift.DriftMain;
import io.feedrank.localstack.LocalStack;
import io.feedrank.ranker.RankerApp;
import io.feedrank.ranker.RankerConfig;
import io.feedrank.streams.FeaturesConfig;
import io.feedrank.streams.Main.FeaturesApp;
import io.feedrank.trainer.TrainerConfig;
import io.feedrank.trainer.listen.RetrainListener;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole platform in one process on the local stack: Kafka, Redis and the registry; the features
 * app; the drift job on a Flink MiniCluster; the ranker; the trainer (and its listener on retrain
 * commands). Each component is configured by the same keys as its own command, so what runs here is
 * what runs in production, pointed at other endpoints. Closing stops everything, newest first.
 */
public final class Platform implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Platform.class);

  /**
   * What to start and how.
   *
   * @param dir state directory (stack, streams state, artifacts)
   * @param kafkaPort preferred ports (0 = random)
   * @param partitions partitions of the multi-partition topics (0 = DESIGN defaults)
   * @param streams extra keys for streams-features ({@link FeaturesConfig#from})
   * @param drift extra keys for flink-drift ({@link DriftConfig#from})
   * @param ranker extra keys for the ranker ({@link RankerConfig#from})
   * @param trainer extra keys for the trainer ({@link TrainerConfig#from})
   * @param dataClock the trainer's "now" for default data ranges (event time)
   * @param flinkMetricsPort port of the drift job's Prometheus metrics on 127.0.0.1 (0 = off)
   * @param deleteStackOnClose whether closing deletes the stack's directory (Kafka's log, Redis's
   *     and the registry's files): {@code up --dir} keeps it with the rest of its state
   */
  public record Settings(
      Path dir,
      int kafkaPort,
      int redisPort,
      int registryPort,
      int partitions,
      Map<String, String> streams,
      Map<String, String> drift,
      Map<String, String> ranker,
      Map<String, String> trainer,
      Clock dataClock,
      int flinkMetricsPort,
      boolean deleteStackOnClose) {}

  private final Deque<AutoCloseable> open = new ArrayDeque<>();
  private boolean closed;
  private LocalStack stack;
  private FeaturesApp features;
  private JobClient driftJob;
  private RankerApp ranker;
  private io.feedrank.trainer.Main trainer;
  private RetrainListener listener;
  private FeaturesConfig featuresConfig;
  private org.apache.kafka.clients.admin.Admin admin;
  private TopicReader topics;

  private final Thread shutdownHook = new Thread(this::close, "platform-shutdown");

  /** A platform of parts already started, oldest first: none for {@link #start}, tests' own. */
  Platform(AutoCloseable... started) {
    for (AutoCloseable c : started) {
      open.push(c);
    }
  }

  /** Starts every component; on a failure, what started is stopped again. */
  public static Platform start(Settings s, Consumer<String> progress) throws Exception {
    Platform p = new Platform();
    // one hook closes everything in order (newest first, the stack last)
    Runtime.getRuntime().addShutdownHook(p.shutdownHook);
    try {
      p.startAll(s, progress);
      return p;
    } catch (Exception | Error e) {
      p.close();
      throw e;
    }
  }

  private void startAll(Settings s, Consumer<String> progress) throws Exception {
    progress.accept("Kafka (KRaft), Redis, schema registry");
    LocalStack.Builder b =
        LocalStack.builder()
            .workDir(s.dir().resolve("stack"))
            .deleteOnClose(s.deleteStackOnClose())
            .shutdownHook(false)
            .kafkaPort(s.kafkaPort())
            .redisPort(s.redisPort())
            .registryPort(s.registryPort())
            .partitions(s.partitions());
    stack = b.build().start();
    started(stack);

    progress.accept("streams-features");
    Map<String, String> f = endpoints(true);
    f.put("state.dir", s.dir().resolve("streams-state").toString());
    f.put("metrics.port", "0");
    // the local broker takes any timestamp (KafkaBroker): outputs keep their interaction's, as
    // simulated event time may run ahead of the clock, and the trainer seeks examples by it
    f.put("output.max.ahead.of.clock.ms", Long.toString(Long.MAX_VALUE));
    f.putAll(s.streams());
    featuresConfig = FeaturesConfig.from(f);
    features = io.feedrank.streams.Main.start(featuresConfig);
    started(features);

    progress.accept("flink-drift on a Flink MiniCluster");
    Map<String, String> d = endpoints(false);
    d.put("from.earliest", "true");
    d.put("parallelism", "1");
    d.putAll(s.drift());
    Configuration flink = io.feedrank.drift.LocalFlink.loopback();
    flink.set(
        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
        s.dir().resolve("flink-checkpoints").toUri().toString());
    if (s.flinkMetricsPort() > 0) {
      io.feedrank.drift.metrics.LoopbackPrometheusReporterFactory.configure(
          flink, s.flinkMetricsPort());
    }
    DriftConfig driftConfig = io.feedrank.drift.LocalDriftJob.inThisJvm(DriftConfig.from(d));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(driftConfig.parallelism(), flink);
    DriftMain.build(env, driftConfig);
    driftJob = env.executeAsync(driftConfig.jobName());
    started(
        () -> {
          try {
            driftJob.cancel().get(30, java.util.concurrent.TimeUnit.SECONDS);
          } catch (Exception e) {
            log.warn("platform: cancelling the drift job: {}", e.toString());
          }
        });

    progress.accept("trainer");
    Map<String, String> t = endpoints(false);
    t.put("artifact.store", s.dir().resolve("artifacts").toString());
    t.putAll(s.trainer());
    trainer = new io.feedrank.trainer.Main(TrainerConfig.from(t), Clock.systemUTC(), s.dataClock());
    started(trainer);

    progress.accept("ranker-service");
    Map<String, String> r = endpoints(true);
    r.put("artifact.store", s.dir().resolve("artifacts").toString());
    // simulated event time may run ahead of the clock here, as the local broker accepts
    // (log.message.timestamp.after.max.ms): the demo's feed client dates its requests by it
    r.put("request.max.ahead.ms", Long.toString(Long.MAX_VALUE));
    r.putAll(s.ranker());
    ranker = RankerApp.start(RankerConfig.from(r));
    started(ranker);
  }

  private Map<String, String> endpoints(boolean withRedis) {
    Map<String, String> m = new HashMap<>();
    m.put("bootstrap.servers", stack.bootstrapServers());
    m.put("schema.registry.url", stack.registryUrl());
    if (withRedis) {
      m.put("redis.uri", stack.redisUri());
    }
    return m;
  }

  /**
   * For an owner that closes this platform itself, in its own order, from its own shutdown hook
   * ({@code ./feedrank up} and the demo stop their traffic first): drops the platform's hook. The
   * JVM runs hooks concurrently, so with both, the platform's could close the broker while the
   * owner's traffic still sent to it, and the owner's producer waited out its timeouts (about 90 s)
   * at Ctrl-C. Until the owner's hook is in place, the platform's stays.
   */
  public void detachShutdownHook() {
    Runtime.getRuntime().removeShutdownHook(shutdownHook);
  }

  /**
   * Starts the trainer's listener on retrain commands (one run per command), or returns the one
   * started. Synchronized with {@link #close}, which a shutdown hook runs while up or the demo may
   * still be starting: a listener started after the close would run on, closed by nothing.
   *
   * @throws IllegalStateException when the platform is closed and no listener was started
   */
  public synchronized RetrainListener listen() {
    if (listener == null) {
      requireOpen("a retrain listener");
      listener = trainer.listen();
      open.push(listener);
    }
    return listener;
  }

  public LocalStack stack() {
    return stack;
  }

  public FeaturesApp features() {
    return features;
  }

  public String featuresApplicationId() {
    return featuresConfig.applicationId();
  }

  public JobClient driftJob() {
    return driftJob;
  }

  public RankerApp ranker() {
    return ranker;
  }

  public io.feedrank.trainer.Main trainer() {
    return trainer;
  }

  /**
   * How many records streams-features has not processed yet: of {@code interactions} and of its
   * repartition topic, where each event's item half waits (0 = every published event is processed
   * and its training example and features committed).
   */
  public synchronized long featuresLag() {
    if (admin == null) {
      requireOpen("an admin client");
      admin = stack.admin();
      open.push(admin);
      topics = new TopicReader(clientConfig());
    }
    return topics.lag(admin, featuresApplicationId(), io.feedrank.avro.Topics.INTERACTIONS);
  }

  /**
   * Adds a started part to what {@link #close} stops. A shutdown hook may have closed the platform
   * while the part started: the part is closed at once then, and the start ends.
   */
  private synchronized void started(AutoCloseable part) {
    if (closed) {
      try {
        part.close();
      } catch (Exception e) {
        log.warn("platform: closing {}: {}", part.getClass().getSimpleName(), e.toString());
      }
      throw new IllegalStateException("the platform was closed while it started");
    }
    open.push(part);
  }

  private void requireOpen(String what) {
    if (closed) {
      throw new IllegalStateException("the platform is closed: " + what + " is not started");
    }
  }

  /** The Kafka client config of the stack (bootstrap servers and registry). */
  public Map<String, Object> clientConfig() {
    return stack.clientConfig();
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook is running or ran
      }
    }
    // a start cut short by an interrupt (Ctrl-C during up's or the demo's start) closes what
    // started on the interrupted thread: under the flag, the closes that wait for their threads
    // (the ranker's, the broker's) would give up at once and leave them running
    boolean interrupted = Thread.interrupted();
    try {
      while (!open.isEmpty()) {
        AutoCloseable c = open.pop();
        try {
          c.close();
        } catch (Exception e) {
          log.warn("platform: closing {}: {}", c.getClass().getSimpleName(), e.toString());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
