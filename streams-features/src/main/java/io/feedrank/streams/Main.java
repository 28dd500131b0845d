package io.feedrank.streams;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.metrics.MetricsServer;
import io.feedrank.streams.redis.AsyncFeatureWriter;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.RedisFeatureWriter;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.topology.InteractionsPartitioning;
import io.feedrank.streams.validation.EventValidator;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the features app: registry client, Redis writer, metrics, the topology, Kafka Streams.
 * {@link #start} returns a running app; {@link FeaturesApp#close} stops it cleanly.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /**
   * The most entities the Redis writer holds, waiting and on their way (a map of a hash's fields
   * each): beyond it the stream tasks keep their changed entities in their pending stores until it
   * has room, rather than wait for it.
   */
  static final int MAX_PENDING_REDIS_WRITES = 200_000;

  /**
   * How often the Kafka Streams metrics exported are brought up to date with the client's: a task's
   * metrics (among them {@code dropped-records}, what the deserialization handler skipped) exist
   * only once the task does, after the first rebalance; Micrometer's default took a minute.
   */
  static final Duration STREAMS_METRICS_REFRESH = Duration.ofSeconds(5);

  /**
   * How long the partition count of interactions read again, for a record on another partition than
   * its key's, stands before it is read again ({@link InteractionsPartitioning}): a producer that
   * sends to the wrong partitions costs a metadata request a second per instance. A read that fails
   * is not tried again sooner: the last count stands as long.
   */
  static final Duration PARTITIONS_RECHECK = Duration.ofSeconds(1);

  /**
   * A running features app and what it owns. {@code failed} completes when its Kafka Streams client
   * has failed for good (state {@code ERROR}) or its Redis writer has ({@link
   * AsyncFeatureWriter#failed}): it processes nothing more, or nothing more reaches Redis, and the
   * process should end so that whatever runs it restarts it.
   */
  public record FeaturesApp(
      KafkaStreams streams,
      FeatureWriter writer,
      SchemaRegistryClient registry,
      Admin admin,
      MetricsServer metricsServer,
      PrometheusMeterRegistry metrics,
      KafkaStreamsMetrics streamsMetrics,
      ScheduledExecutorService streamsMetricsRefresh,
      CompletableFuture<Void> failed)
      implements AutoCloseable {
    @Override
    public void close() {
      streams.close(Duration.ofSeconds(30));
      streamsMetrics.close();
      streamsMetricsRefresh.shutdownNow();
      writer.close();
      registry.close();
      admin.close();
      if (metricsServer != null) {
        metricsServer.close();
      }
      metrics.close();
    }
  }

  public static FeaturesApp start(FeaturesConfig config) throws IOException {
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    SchemaRegistryClient registry = new HttpSchemaRegistryClient(config.registryConfig());
    FeatureMetrics featureMetrics = new FeatureMetrics(metrics);
    // what is opened is closed again if a later step fails (a metrics port in use, say): in the
    // one JVM of ./feedrank up or a test, the writer thread and the Redis pool would stay behind
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    opened.push(metrics::close);
    opened.push(registry::close);
    try {
      AsyncFeatureWriter writer =
          new AsyncFeatureWriter(
              new RedisFeatureWriter(config.redisUri(), config.redisTtl(), metrics),
              featureMetrics,
              MAX_PENDING_REDIS_WRITES);
      opened.push(writer::close);
      FeatureTopology.Settings settings =
          new FeatureTopology.Settings(
              config.applicationId(),
              new EventValidator(
                  config.maxAhead(),
                  config.maxBehind(),
                  config.maxAheadOfClock(),
                  System::currentTimeMillis),
              config.redisFlushInterval(),
              config.stateObjects(),
              config.catchUpFlushInterval(),
              config.autoRegisterSchemas(),
              config.maxDeadLetterBytes(),
              config.repartitionFormat(),
              config.maxCategoryBytes(),
              config.outputMaxAheadOfClock(),
              config.redisTtl());
      Admin admin =
          Admin.create(
              new StreamsConfig(config.streamsProperties())
                  .getAdminConfigs(config.applicationId() + "-partition-check"));
      opened.push(admin::close);
      InteractionsPartitioning partitioning =
          new InteractionsPartitioning(
              () -> PartitionCounts.of(admin, config.topics().interactions()),
              config.earlierPartitionCounts(),
              PARTITIONS_RECHECK.toMillis(),
              System::currentTimeMillis);
      Topology topology =
          FeatureTopology.build(
              config.topics(), settings, partitioning, writer, registry, featureMetrics);
      KafkaStreams streams = new KafkaStreams(topology, config.streamsProperties());
      opened.push(() -> streams.close(Duration.ofSeconds(10)));
      ScheduledExecutorService refresh =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "features-streams-metrics");
                t.setDaemon(true);
                return t;
              });
      opened.push(refresh::shutdownNow);
      KafkaStreamsMetrics streamsMetrics =
          new KafkaStreamsMetrics(streams, List.of(), refresh, STREAMS_METRICS_REFRESH);
      opened.push(streamsMetrics::close);
      streamsMetrics.bindTo(metrics);
      CompletableFuture<Void> failed = supervise(streams, writer.failed());
      MetricsServer server =
          config.metricsPort() > 0
              ? new MetricsServer(config.metricsHost(), config.metricsPort(), metrics)
              : null;
      if (server != null) {
        // streams.start() below can still throw (its global thread fails at start-up on absent
        // item or user topics): the port would stay bound, its non-daemon thread alive
        opened.push(server::close);
      }
      // through an admin client configured as Kafka Streams' own; without the brokers the start
      // fails after its default.api.timeout.ms (1 min), naming the topic it could not read, where
      // Kafka Streams' own start failed after some 6 minutes
      PartitionCounts.refuseChanged(
          admin,
          config.applicationId(),
          config.topics().interactions(),
          PartitionCounts.internalTopics(topology, config.applicationId(), config.topics()));
      partitioning.partitions(); // the count the app's state is partitioned by, before it runs
      streams.start();
      log.info(
          "features: started {}; metrics on {}",
          config,
          server == null ? "(off)" : config.metricsHost() + ":" + server.port());
      return new FeaturesApp(
          streams, writer, registry, admin, server, metrics, streamsMetrics, refresh, failed);
    } catch (IOException | RuntimeException | Error e) {
      // with its stack, to where the app's log goes (a file, a log shipper): the command that
      // started it prints the messages of the causes only, without FEEDRANK_DEBUG
      log.error("features: failed to start", e);
      while (!opened.isEmpty()) {
        try {
          opened.pop().close();
        } catch (Exception closing) {
          e.addSuppressed(closing);
        }
      }
      throw e;
    }
  }

  /**
   * Sets, before it starts, how a client of the features app handles a dead stream thread ({@link
   * #onDeadThread}), and returns what completes when the app fails for good: the client (state
   * {@code ERROR}) or, when {@code writerFailed} completes, the Redis writer. A dead writer leaves
   * the client running, every write refused: the entities stay in the changelogged pending stores,
   * to be written by the next instance (DirtyEntities).
   */
  static CompletableFuture<Void> supervise(
      KafkaStreams streams, CompletableFuture<Void> writerFailed) {
    CompletableFuture<Void> failed = new CompletableFuture<>();
    streams.setUncaughtExceptionHandler(
        e -> onDeadThread(e, Thread.currentThread().getName().endsWith("-GlobalStreamThread")));
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.ERROR) {
            log.error("features: the Kafka Streams client failed ({} -> ERROR)", before);
            failed.complete(null);
          }
        });
    writerFailed.thenRun(() -> failed.complete(null));
    return failed;
  }

  /**
   * What becomes of a client whose thread died of {@code e}. A stream thread is replaced, unless an
   * {@link Error} is among the causes: an {@code OutOfMemoryError} or a {@code StackOverflowError}
   * (the JVM itself in trouble), a {@code LinkageError} (a class the code needs cannot be loaded,
   * for every thread after it), an {@code AssertionError} (a bug). A new thread cures none of them,
   * and one replaced for ever would hide them; the client is shut down, which puts it in {@code
   * ERROR}, and the process ends to be restarted. Not the application (every instance): one JVM's
   * trouble is its own. The global thread (the item and user tables) cannot be replaced at all:
   * Kafka Streams 4.3 fails with a ClassCastException on REPLACE_THREAD there, and the app would
   * run on without its tables.
   */
  static StreamThreadExceptionResponse onDeadThread(Throwable e, boolean globalThread) {
    if (globalThread) {
      log.error("features: the global stream thread died; shutting the app down", e);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>()); // a cause cycle
    for (Throwable c = e; c != null && seen.add(c); c = c.getCause()) {
      if (c instanceof Error) {
        log.error("features: a stream thread died of an Error; shutting the app down", e);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      }
    }
    log.error("features: stream thread died, replacing it", e);
    return StreamThreadExceptionResponse.REPLACE_THREAD;
  }

  private Main() {}
}
