package io.feedrank.ranker;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.RankingLog;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.ArtifactStore;
import io.feedrank.ranker.api.ApiKeys;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.api.RankerHttp;
import io.feedrank.ranker.api.TokenBuckets;
import io.feedrank.ranker.api.VertxRankerServer;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.RedisFeatureStore;
import io.feedrank.ranker.logging.RankingLogger;
import io.feedrank.ranker.models.ModelDirector;
import io.feedrank.ranker.models.ModelLoader;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.RegistryListener;
import io.feedrank.ranker.models.ServingModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running ranker, wired by hand from a {@link RankerConfig}: Redis feature store behind the
 * cache and breaker, model slots fed by the registry listener, the ranking logger, the HTTP server.
 * {@link #close} drains requests, then stops every part.
 */
public final class RankerApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RankerApp.class);

  private final RankerConfig config;
  private final PrometheusMeterRegistry metrics;
  private final RedisFeatureStore redis;
  private final CachingFeatureStore features;
  private final ModelSlots slots;
  private final RegistryListener listener;
  private final RankingLogger<RankingLogs.Entry> logger;
  private final RankService service;
  private final RankerHttp server;
  private final Warmup warmup;

  /** Redis has answered a readiness check since the start: it gates readiness until then only. */
  private volatile boolean redisAnswered;

  private final Instant started = Instant.now();

  /**
   * Builds the parts; nothing listens or reads yet. What configuration can refuse without opening
   * anything is read first; a part that fails after others were opened closes those before the
   * failure is thrown (a bad {@code kafka.*} key must not leave the feature refresh thread and the
   * Redis pool behind in the JVM of {@code ./feedrank up}).
   */
  private RankerApp(RankerConfig c) throws IOException {
    this.config = c;
    ApiKeys keys = c.apiKeysFile() == null ? null : apiKeys(c.apiKeysFile());
    if (keys == null) {
      log.warn("ranker: no api.keys.file: every request is accepted without an API key");
    }
    ArtifactStore artifacts = ArtifactStore.forLocation(c.artifactStore());
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      opened.push(metrics::close);
      new JvmMemoryMetrics().bindTo(metrics);
      new JvmGcMetrics().bindTo(metrics);
      new JvmCompilationMetrics().bindTo(metrics); // the JIT's work after a start or a deploy
      new JvmThreadMetrics().bindTo(metrics);
      new ProcessorMetrics().bindTo(metrics);
      this.redis =
          new RedisFeatureStore(
              RedisConnections.connect(c.redisUri(), c.redisTimeout(), c.redisMaxConnections()));
      opened.push(redis);
      this.features = cache(redis, c, metrics);
      opened.push(features::closeKeepingStore);
      this.slots = new ModelSlots(c.stagingShare());
      opened.push(slots::clear);
      ModelLoader loader =
          new ModelLoader(
              artifacts,
              c.onnxIntraOpThreads(),
              c.itemVectorsMax(),
              c.itemVectorMaxAge(),
              c.cacheItemFreshTtl(),
              c.modelArtifactMaxBytes());
      ModelDirector director = new ModelDirector(c.modelName(), loader, slots, metrics);
      Map<String, Object> kafka = new HashMap<>();
      kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
      // neither the registry listener nor the ranking logs is on the request path
      kafka.put(
          CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
      kafka.putAll(c.kafkaOverrides());
      // the serdes reach the registry as configured, its retries and timeout included
      Map<String, Object> registry = new HashMap<>(c.registryConfig().toMap());
      this.listener =
          new RegistryListener(
              kafka,
              RegistryListener.deserializer(registry),
              c.modelRegistryTopic(),
              director::onRegistry,
              metrics);
      opened.push(listener);
      Map<String, Object> producer = producerConfig(c);
      AvroSerializer<RankingLog> values = new AvroSerializer<>();
      values.configure(producer, false);
      this.logger =
          new RankingLogger<>(
              new KafkaProducer<>(producer, new StringSerializer(), values),
              c.rankingLogsTopic(),
              c.logBufferSize(),
              c.logBufferMaxBytes(),
              RankingLogs.Entry::estimatedBytes,
              RankingLogs::toRecord,
              metrics);
      opened.push(logger);
      this.service = new RankService(features, slots, logger, c.logSampleRate(), metrics);
      this.warmup =
          new Warmup(redis, slots, c, r -> serializeOnly(values, c.rankingLogsTopic(), r));
      this.server =
          new VertxRankerServer(
              new Backend(),
              new RankerHttp.Settings(
                  c.host(),
                  c.port(),
                  c.eventLoops(),
                  c.maxBodyBytes(),
                  keys,
                  new TokenBuckets(c.rateLimitPerSecond(), c.rateLimitBurst(), System::nanoTime),
                  warmup,
                  c.requestMaxAhead().toMillis(),
                  c.managementPort()),
              metrics);
    } catch (RuntimeException e) {
      while (!opened.isEmpty()) {
        try {
          opened.pop().close();
        } catch (Exception suppressed) {
          if (suppressed instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /**
   * The ranking-log producer's configuration: the bootstrap servers, then this service's defaults
   * for logs, then every {@code kafka.*} key (which win over those defaults), then the registry's.
   */
  static Map<String, Object> producerConfig(RankerConfig c) {
    Map<String, Object> producer = new HashMap<>();
    producer.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
    // logs are off the latency path: larger batches, fewer compression buffers (lz4 allocates a
    // block per batch: at 20 ms a tenth of the ranker's allocation under load)
    producer.put(ProducerConfig.LINGER_MS_CONFIG, 100);
    // a log record is a few KB: at the default 16 KB a batch, and with it a compression block of
    // 64 KB, every few requests
    producer.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    producer.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    producer.put(
        CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
    // keep the topic's partitions through an outage: rebootstrapping (Kafka's default since 4.0)
    // replaced them with the bootstrap address a second or so after the brokers stopped answering,
    // and every send then waited max.block.ms for metadata and failed, so a few seconds of outage
    // cost every log in them. Without it the logs wait in the producer's buffer (buffer.memory) and
    // go out when the brokers are back, up to delivery.timeout.ms after they were sent. Rebootstrap
    // is for clients idle long enough for the whole broker set to change; this one sends all day
    producer.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
    producer.putAll(c.kafkaOverrides());
    producer.putAll(c.registryConfig().toMap());
    producer.put(AvroSerializer.AUTO_REGISTER, Boolean.toString(c.autoRegisterSchemas()));
    return producer;
  }

  /**
   * The keys of {@code api.keys.file}; a file that is missing or unreadable is refused naming the
   * key (the start's message was the bare path, {@code NoSuchFileException}'s text). Also read by
   * {@code ./feedrank ranker} before the start, to refuse such a file as configuration.
   */
  public static ApiKeys apiKeys(Path file) {
    try {
      return ApiKeys.load(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("api.keys.file: no such file " + file, e);
    } catch (IOException e) {
      throw new IllegalArgumentException("api.keys.file: cannot read " + file + ": " + e, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("api.keys.file: " + e.getMessage(), e);
    }
  }

  /**
   * Starts the ranker: the registry listener first (bounded wait for its catch-up), then HTTP, then
   * the warm-up, which holds readiness until it ends ({@link Warmup}).
   */
  public static RankerApp start(RankerConfig c) throws IOException, InterruptedException {
    try {
      return startParts(c);
    } catch (IOException | RuntimeException | Error e) {
      // with its stack, to where the service's log goes (a file, a log shipper): the command that
      // started it prints the messages of the causes only, without FEEDRANK_DEBUG
      log.error("ranker: failed to start", e);
      throw e;
    }
  }

  private static RankerApp startParts(RankerConfig c) throws IOException, InterruptedException {
    RankerApp app = new RankerApp(c);
    try {
      app.listener.start();
      if (!app.listener.awaitCaughtUp(Duration.ofSeconds(15))) {
        log.warn("ranker: model registry not read within 15 s; serving by popularity until then");
      }
      app.server.start();
      log.info(
          "ranker: listening on http://{}:{} ({})",
          c.host(),
          app.server.port(),
          "Vert.x, " + c.eventLoops() + " event loops");
      app.warmup.start(app.server.port());
      return app;
    } catch (RuntimeException | InterruptedException e) {
      app.close();
      throw e;
    }
  }

  /**
   * The feature cache of {@code c} over {@code redis}, counted in {@code metrics}: the service's,
   * and the warm-up's (the same store and clock, so the same classes at their call sites).
   */
  static CachingFeatureStore cache(RedisFeatureStore redis, RankerConfig c, MeterRegistry metrics) {
    return new CachingFeatureStore(
        redis,
        c.cacheMaxEntries(),
        new CachingFeatureStore.Ttls(
            c.cacheUserFreshTtl(), c.cacheItemFreshTtl(), c.cacheMaxServe(), c.cacheStaleTtl()),
        CachingFeatureStore.breakerConfig(
            c.breakerFailureRatePercent(), c.redisTimeout(), c.breakerOpenFor()),
        metrics,
        CachingFeatureStore.SYSTEM_NANOS);
  }

  /** The warm-up's ranking logs: serialized as the producer would, then dropped. */
  private static void serializeOnly(AvroSerializer<RankingLog> values, String topic, RankingLog r) {
    try {
      values.serialize(topic, r);
    } catch (RuntimeException ex) {
      log.debug("ranker: warm-up log not serialized: {}", ex.toString());
    }
  }

  public int port() {
    return server.port();
  }

  /**
   * The port of {@code /health*} and {@code /metrics}: {@link #port} unless they have their own.
   */
  public int managementPort() {
    return server.managementPort();
  }

  /**
   * Waits, at most {@code timeout}, until every readiness check passes (a production model, Redis
   * answered once, the registry read, the warm-up ended): what {@code /health/ready} reports.
   * Returns whether they did.
   */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Backend backend = new Backend();
    while (!backend.readiness().values().stream().allMatch(Boolean::booleanValue)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  public ModelSlots slots() {
    return slots;
  }

  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  private final class Backend implements RankerHttp.Backend {
    @Override
    public RankResult rank(RankRequest request) {
      return service.rank(request);
    }

    @Override
    public Map<String, Boolean> readiness() {
      Map<String, Boolean> m = new LinkedHashMap<>();
      m.put("model_loaded", slots.current(ModelSlots.Variant.PRODUCTION) != null);
      // once: past its start, a ranker serves through a Redis outage (see dependencies())
      // only ever set: a probe whose ping failed must not undo one that answered meanwhile
      if (!redisAnswered && redis.ping()) {
        redisAnswered = true;
      }
      m.put("redis_answered", redisAnswered);
      m.put("registry_read", listener.caughtUp());
      m.put("warmed_up", warmup.report().finished());
      return m;
    }

    @Override
    public Map<String, Boolean> dependencies() {
      Map<String, Boolean> m = new LinkedHashMap<>();
      m.put("redis_reachable", redis.ping());
      // false while the listener waits to read the topic again after a failure: new models wait
      m.put("registry_following", listener.following());
      return m;
    }

    @Override
    public Map<String, Object> health() {
      ServingModel m = slots.current(ModelSlots.Variant.PRODUCTION);
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("status", "UP");
      h.put("model_version", m == null ? null : m.version());
      h.put("model_loaded_at", m == null ? null : m.loadedAt().toString());
      ServingModel s = slots.current(ModelSlots.Variant.STAGING);
      h.put("staging_version", s == null ? null : s.version());
      h.put("uptime_seconds", Duration.between(started, Instant.now()).toSeconds());
      long last = service.lastPredictionMillis();
      h.put("last_prediction", last < 0 ? null : Instant.ofEpochMilli(last).toString());
      h.put("redis_breaker", features.breakerState().name());
      Warmup.Report w = warmup.report();
      Map<String, Object> wm = new LinkedHashMap<>();
      wm.put("state", w.state());
      wm.put("requests", w.requests());
      wm.put("millis", w.millis());
      wm.put("users_sampled", w.users());
      wm.put("items_sampled", w.items());
      wm.put("model_version", w.model());
      h.put("warmup", wm);
      return h;
    }

    @Override
    public Map<String, Object> config() {
      Map<String, Object> m = new LinkedHashMap<>(config.publicView());
      ServingModel p = slots.current(ModelSlots.Variant.PRODUCTION);
      ServingModel s = slots.current(ModelSlots.Variant.STAGING);
      m.put("production_model", p == null ? null : p.name() + "@" + p.version());
      m.put("production_architecture", p == null ? null : p.architecture());
      m.put(
          "production_per_request_inputs",
          p == null
              ? null
              : ModelInputs.PER_REQUEST.stream()
                  .filter(p.scorer().perRequestInputs()::contains)
                  .toList());
      m.put("staging_model", s == null ? null : s.name() + "@" + s.version());
      m.put("feature_schema_version", FeatureSchema.VERSION);
      m.put("user_features", FeatureSchema.USER);
      m.put("item_features", FeatureSchema.ITEM);
      m.put("cross_features", FeatureSchema.CROSS);
      m.put("context_features", io.feedrank.features.vector.Vectorizer.CONTEXT);
      return m;
    }

    @Override
    public String scrape() {
      return metrics.scrape();
    }
  }

  /**
   * Stops every part, on an interrupted thread too: a start cut short by an interrupt (Ctrl-C
   * during up's or the demo's start) closes here with the flag set, under which every wait below
   * would give up at once, leaving logs unsent and threads running. The flag is cleared while the
   * parts close and set again after.
   */
  @Override
  public void close() {
    boolean interrupted = Thread.interrupted();
    try {
      closeParts();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void closeParts() {
    try {
      warmup.close(); // first: its requests would be refused once the server drains
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.stop(config.shutdownUnready().toMillis(), config.shutdownGrace().toMillis());
    try {
      // next, before the listener's up to 7 s: the logs get the time left in the pod's grace
      logger.close(Duration.ofSeconds(5)); // flushed even when the wait above was cut short
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      listener.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    slots.clear(); // and a model the listener installs after this is closed at once
    try {
      features.close();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt(); // one that came during the close: kept for the caller
      }
      log.warn("ranker: closing Redis: {}", e.toString());
    }
    metrics.close();
  }
}
