package io.feedrank.streams;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.metrics.MetricsServer;
import io.feedrank.streams.redis.AsyncFeatureWriter;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.RedisFeatureWriter;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.validation.EventValidator;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the features app: registry client, Redis writer, metrics, the topology, Kafka Streams.
 * {@link #start} returns a running app; {@link FeaturesApp#close} stops it cleanly.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /** Entities waiting for Redis before the stream threads are held back. */
  static final int MAX_PENDING_REDIS_WRITES = 200_000;

  /** A running features app and what it owns. */
  public record FeaturesApp(
      KafkaStreams streams,
      FeatureWriter writer,
      SchemaRegistryClient registry,
      MetricsServer metricsServer,
      PrometheusMeterRegistry metrics)
      implements AutoCloseable {
    @Override
    public void close() {
      streams.close(Duration.ofSeconds(30));
      writer.close();
      registry.close();
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
    FeatureWriter writer =
        new AsyncFeatureWriter(
            new RedisFeatureWriter(config.redisUri(), config.redisTtl(), metrics),
            featureMetrics,
            MAX_PENDING_REDIS_WRITES);
    FeatureTopology.Settings settings =
        new FeatureTopology.Settings(
            config.applicationId(),
            new EventValidator(config.maxAhead(), config.maxBehind()),
            config.redisFlushInterval(),
            config.stateObjects(),
            config.catchUpFlushInterval());
    Topology topology =
        FeatureTopology.build(config.topics(), settings, writer, registry, featureMetrics);
    KafkaStreams streams = new KafkaStreams(topology, config.streamsProperties());
    new KafkaStreamsMetrics(streams).bindTo(metrics);
    streams.setUncaughtExceptionHandler(
        e -> {
          // the global thread (item and user tables) cannot be replaced: Kafka Streams 4.3 fails
          // with a ClassCastException on REPLACE_THREAD there, and the app would run on without
          // its tables; stop the client instead, so the failure is visible
          if (Thread.currentThread().getName().endsWith("-GlobalStreamThread")) {
            log.error("features: the global stream thread died; shutting the app down", e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
          }
          log.error("features: stream thread died, replacing it", e);
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    MetricsServer server =
        config.metricsPort() > 0
            ? new MetricsServer(config.metricsHost(), config.metricsPort(), metrics)
            : null;
    streams.start();
    log.info(
        "features: started {}; metrics on {}",
        config,
        server == null ? "(off)" : config.metricsHost() + ":" + server.port());
    return new FeaturesApp(streams, writer, registry, server, metrics);
  }

  private Main() {}
}
