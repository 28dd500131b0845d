package io.feedrank.ranker;

import static io.feedrank.avro.ConfigMap.doubleOf;
import static io.feedrank.avro.ConfigMap.longOf;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.ranker.api.RequestParser;
import io.feedrank.ranker.api.VertxRankerServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the ranker, validated on construction. Loaded from a flat string map (a
 * properties file overlaid with environment and command-line options by the CLI); keys and defaults
 * are documented on {@link #from} and in the README.
 */
public record RankerConfig(
    String host,
    int port,
    int managementPort,
    int eventLoops,
    Duration shutdownUnready,
    Duration shutdownGrace,
    int maxBodyBytes,
    Duration requestMaxAhead,
    String redisUri,
    Duration redisTimeout,
    int redisMaxConnections,
    int cacheMaxEntries,
    Duration cacheUserFreshTtl,
    Duration cacheItemFreshTtl,
    Duration cacheMaxServe,
    Duration cacheStaleTtl,
    int breakerFailureRatePercent,
    Duration breakerOpenFor,
    String bootstrapServers,
    RegistryConfig registryConfig,
    String modelRegistryTopic,
    String rankingLogsTopic,
    String modelName,
    String artifactStore,
    long modelArtifactMaxBytes,
    double stagingShare,
    int onnxIntraOpThreads,
    Duration itemVectorMaxAge,
    int itemVectorsMax,
    Path apiKeysFile,
    double rateLimitPerSecond,
    int rateLimitBurst,
    double logSampleRate,
    int logBufferSize,
    long logBufferMaxBytes,
    int warmupRequests,
    int warmupCandidates,
    Duration warmupMax,
    Map<String, String> kafkaOverrides,
    boolean autoRegisterSchemas) {

  public RankerConfig {
    require(redisUri, "redis.uri");
    RedisConnections.parse(redisUri); // refused here, naming the key, not at the first connection
    require(bootstrapServers, "bootstrap.servers");
    Objects.requireNonNull(registryConfig, "registryConfig");
    require(modelName, "model.name");
    within(port, 0, 65535, "port");
    within(managementPort, -1, 65535, "management.port");
    if (managementPort > 0 && managementPort == port) {
      throw new IllegalArgumentException(
          "management.port is port ("
              + port
              + "); leave it out to serve the ops endpoints on the service's port");
    }
    within(eventLoops, 1, 256, "http.event.loops");
    within(maxBodyBytes, 1024, 64 << 20, "http.max.body.bytes");
    within(redisMaxConnections, 1, 1024, "redis.max.connections");
    if (redisMaxConnections < redisBorrowers(eventLoops)) {
      // a thread past the pool waits redis.timeout.ms for a connection, and then fails a read
      // the breaker counts against Redis: a healthy Redis looked down under load
      throw new IllegalArgumentException(
          "redis.max.connections must be at least the threads that read Redis at once, "
              + redisBorrowers(eventLoops)
              + " (http.event.loops "
              + eventLoops
              + ", "
              + VertxRankerServer.OPS_WORKERS
              + " ops workers, the background refresh and the warm-up), got "
              + redisMaxConnections);
    }
    within(cacheMaxEntries, 0, 100_000_000, "cache.max.entries");
    within(breakerFailureRatePercent, 1, 100, "redis.breaker.failure.rate.percent");
    within(onnxIntraOpThreads, 1, 64, "onnx.intra.op.threads");
    within(itemVectorsMax, 4, 4_000_000, "two.tower.item.vectors.max");
    // an artifact is read into one byte array: the model's, or the limit the two towers share
    within(modelArtifactMaxBytes, 1, Integer.MAX_VALUE - 8, "model.artifact.max.bytes");
    within(rateLimitBurst, 1, 1_000_000_000, "rate.limit.burst");
    within(logBufferSize, 1, 10_000_000, "log.buffer.size");
    // at least 1 MiB: some fifty entries of 1,000 candidates, and more than one of them sampled
    // whole
    within(logBufferMaxBytes, 1L << 20, 1L << 40, "log.buffer.max.bytes");
    within(warmupRequests, 0, 10_000_000, "warmup.requests");
    within(
        warmupCandidates,
        1,
        io.feedrank.ranker.api.RankRequest.MAX_CANDIDATES,
        "warmup.candidates");
    positive(warmupMax, "warmup.max.ms");
    notNegative(shutdownUnready, "shutdown.unready.ms");
    notNegative(shutdownGrace, "shutdown.grace.ms");
    // Jedis takes an int of milliseconds: 2147483648 wrapped negative (the ranker never became
    // ready) and 4294967346 to 50. Every request may wait this long for Redis, and a thread past
    // the pool as long again: a minute is already far past what a caller waits.
    within(redisTimeout.toMillis(), 1, MAX_REDIS_TIMEOUT_MILLIS, "redis.timeout.ms");
    positive(cacheUserFreshTtl, "cache.user.fresh.ttl.ms");
    positive(cacheItemFreshTtl, "cache.item.fresh.ttl.ms");
    positive(cacheStaleTtl, "cache.stale.ttl.ms");
    positive(breakerOpenFor, "redis.breaker.open.ms");
    positive(itemVectorMaxAge, "two.tower.item.vector.max.age.ms");
    positive(requestMaxAhead, "request.max.ahead.ms");
    positive(cacheMaxServe, "cache.max.serve.ms");
    Duration freshest = max(cacheUserFreshTtl, cacheItemFreshTtl);
    if (cacheMaxServe.compareTo(freshest) < 0 || cacheStaleTtl.compareTo(cacheMaxServe) < 0) {
      throw new IllegalArgumentException(
          "cache TTLs must grow: fresh ("
              + freshest.toMillis()
              + ") <= cache.max.serve.ms ("
              + cacheMaxServe.toMillis()
              + ") <= cache.stale.ttl.ms ("
              + cacheStaleTtl.toMillis()
              + ")");
    }
    fraction(stagingShare, "ab.staging.share");
    fraction(logSampleRate, "log.sample.rate");
    if (!(rateLimitPerSecond > 0) || Double.isInfinite(rateLimitPerSecond)) {
      // an infinite rate made every bucket's tokens NaN (0 × ∞), refusing every request
      throw new IllegalArgumentException(
          "rate.limit.per.second must be a finite number > 0, got " + rateLimitPerSecond);
    }
    kafkaOverrides = Map.copyOf(kafkaOverrides);
  }

  /** The largest {@code redis.timeout.ms}: one minute. */
  public static final long MAX_REDIS_TIMEOUT_MILLIS = 60_000;

  /**
   * The threads that may hold a Redis connection at once: the event loops, the ops workers, the
   * background refresh and the warm-up. The pool holds at least this many.
   */
  public static int redisBorrowers(int eventLoops) {
    return eventLoops + VertxRankerServer.OPS_WORKERS + 2;
  }

  /**
   * Reads the keys (defaults in brackets): {@code host} [127.0.0.1], {@code port} [8080], {@code
   * management.port} [-1: the ops endpoints {@code /health*} and {@code /metrics} on {@code port};
   * else on this port only, 0 for a random one], {@code http.event.loops} [twice the number of
   * cores: Vert.x's event loops], {@code shutdown.unready.ms} [0: on a stop, how long requests are
   * still served with readiness DOWN], {@code shutdown.grace.ms} [10000], {@code
   * http.max.body.bytes} [262144], {@code request.max.ahead.ms} [3600000: a request's
   * context.timestamp further ahead of the server's clock is refused, as a broker refuses such a
   * record by default]; {@code redis.uri} (required, {@link RedisConnections#parse}), {@code
   * redis.timeout.ms} [50; at most 60000], {@code redis.max.connections} [64], {@code
   * cache.max.entries} [200000], {@code cache.user.fresh.ttl.ms} [1000], {@code
   * cache.item.fresh.ttl.ms} [5000] (each entity's shortened by up to a quarter by its {@link
   * io.feedrank.ranker.features.Jitter}), {@code cache.max.serve.ms} [30000], {@code
   * cache.stale.ttl.ms} [600000], {@code redis.breaker.failure.rate.percent} [50], {@code
   * redis.breaker.open.ms} [2000]; {@code bootstrap.servers}, {@code schema.registry.url}
   * (required), the registry's other keys ({@link RegistryConfig#fromMap}: credentials, retries,
   * timeout), {@code model.registry.topic} [model-registry], {@code ranking.logs.topic}
   * [ranking-logs], {@code model.name} [feed-ranker], {@code artifact.store} [target/artifacts],
   * {@code model.artifact.max.bytes} [268435456: a model whose artifacts hold more together is
   * refused, and no more than that is read for it], {@code ab.staging.share} [0.0], {@code
   * onnx.intra.op.threads} [1], {@code two.tower.item.vector.max.age.ms} [60000, jittered
   * likewise], {@code two.tower.item.vectors.max} [200000: held in 131,072 slots, 34 MB for 65-wide
   * vectors, allocated when a two-tower model loads]; {@code api.keys.file} [none: no
   * authentication], {@code rate.limit.per.second} [1000], {@code rate.limit.burst} [2000], {@code
   * log.sample.rate} [0.01], {@code log.buffer.size} [10000], {@code log.buffer.max.bytes}
   * [67108864: the estimated bytes the queued ranking logs hold, some 20 KB each at 1,000
   * candidates; 1 MiB to 1 TiB]; {@code warmup.requests} [20000; 0: none], {@code
   * warmup.candidates} [100], {@code warmup.max.ms} [60000] (the warm-up before readiness: {@link
   * Warmup}); any {@code kafka.*} key goes to the Kafka clients without the prefix. The keys of the
   * Jetty front, removed, are refused rather than ignored: {@code http.server} other than vertx,
   * {@code http.max.threads}. So is any other key that is not one of these: a misspelt {@code
   * api.keys.file} would otherwise start a ranker without authentication.
   *
   * @throws IllegalArgumentException naming the key that is unknown, missing or out of bounds
   */
  public static RankerConfig from(Map<String, String> values) {
    return ConfigMap.read(values, "the ranker", RankerConfig::read);
  }

  private static RankerConfig read(Map<String, String> p) {
    String server = p.get("http.server");
    if (server != null && !server.isBlank() && !server.trim().equalsIgnoreCase("vertx")) {
      throw new IllegalArgumentException(
          "http.server="
              + server.trim()
              + " is not available: the ranker serves HTTP with Vert.x only (leave the key out)");
    }
    if (p.containsKey("http.max.threads")) {
      throw new IllegalArgumentException(
          "http.max.threads was the Jetty front's; the ranker's concurrency is http.event.loops,"
              + " and the Redis pool is redis.max.connections");
    }
    Map<String, String> overrides = ConfigMap.kafkaKeys(p);
    // kafka.bootstrap.servers replaced bootstrap.servers for the registry listener and the logs
    ConfigMap.refuseKafkaDuplicates(overrides, Map.of(), "the ranker");
    String keys = p.get("api.keys.file");
    if (keys != null && keys.isBlank()) {
      // a templated value whose variable was unset: not a wish to serve without authentication
      throw new IllegalArgumentException(
          "api.keys.file is empty; leave the key out to serve without authentication");
    }
    // two per core, as Vert.x's own default: on two shared cores, 4 loops had a lower p99 than 2
    // in 8 of 8 comparisons (BENCHMARKS.md, session 16): a loop the OS preempts stalls fewer
    // connections
    int loops = intOf(p, "http.event.loops", 2 * Runtime.getRuntime().availableProcessors());
    return new RankerConfig(
        p.getOrDefault("host", "127.0.0.1"),
        intOf(p, "port", 8080),
        intOf(p, "management.port", -1),
        loops,
        millis(p, "shutdown.unready.ms", 0),
        millis(p, "shutdown.grace.ms", 10_000),
        intOf(p, "http.max.body.bytes", 256 * 1024),
        millis(p, "request.max.ahead.ms", RequestParser.DEFAULT_MAX_AHEAD_MILLIS),
        p.get("redis.uri"),
        millis(p, "redis.timeout.ms", 50),
        // the loops, the ops endpoints' workers, the background refresh and the warm-up borrow
        // connections; the pool opens them as they are needed
        intOf(p, "redis.max.connections", Math.max(64, redisBorrowers(loops))),
        intOf(p, "cache.max.entries", 200_000),
        millis(p, "cache.user.fresh.ttl.ms", 1_000),
        millis(p, "cache.item.fresh.ttl.ms", 5_000),
        millis(p, "cache.max.serve.ms", 30_000),
        millis(p, "cache.stale.ttl.ms", 600_000),
        intOf(p, "redis.breaker.failure.rate.percent", 50),
        millis(p, "redis.breaker.open.ms", 2_000),
        p.get("bootstrap.servers"),
        RegistryConfig.fromMap(p),
        p.getOrDefault("model.registry.topic", Topics.MODEL_REGISTRY),
        p.getOrDefault("ranking.logs.topic", Topics.RANKING_LOGS),
        p.getOrDefault("model.name", "feed-ranker"),
        p.getOrDefault("artifact.store", "target/artifacts"),
        longOf(p, "model.artifact.max.bytes", 256L << 20),
        doubleOf(p, "ab.staging.share", 0.0),
        intOf(p, "onnx.intra.op.threads", 1),
        millis(p, "two.tower.item.vector.max.age.ms", 60_000),
        intOf(p, "two.tower.item.vectors.max", 200_000),
        keys == null ? null : Path.of(keys.trim()),
        doubleOf(p, "rate.limit.per.second", 1_000),
        intOf(p, "rate.limit.burst", 2_000),
        doubleOf(p, "log.sample.rate", 0.01),
        intOf(p, "log.buffer.size", 10_000),
        longOf(p, "log.buffer.max.bytes", 64L << 20),
        // 5,000 left half of what the JIT compiles under a fresh ranker's first load to be done
        // under that load; 20,000 took 12-20 s here (BENCHMARKS.md, session 28)
        intOf(p, "warmup.requests", 20_000),
        intOf(p, "warmup.candidates", 100),
        millis(p, "warmup.max.ms", 60_000),
        overrides,
        AvroSerializer.autoRegister(p, true));
  }

  /** The configuration as shown by {@code GET /v1/config}: no secrets. */
  public Map<String, Object> publicView() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("model_name", modelName);
    m.put("model_registry_topic", modelRegistryTopic);
    m.put("model_artifact_max_bytes", modelArtifactMaxBytes);
    m.put("ranking_logs_topic", rankingLogsTopic);
    m.put("ab_staging_share", stagingShare);
    m.put("onnx_intra_op_threads", onnxIntraOpThreads);
    m.put("cache_max_entries", cacheMaxEntries);
    m.put("cache_user_fresh_ttl_ms", cacheUserFreshTtl.toMillis());
    m.put("cache_item_fresh_ttl_ms", cacheItemFreshTtl.toMillis());
    m.put("cache_max_serve_ms", cacheMaxServe.toMillis());
    m.put("cache_stale_ttl_ms", cacheStaleTtl.toMillis());
    m.put("two_tower_item_vector_max_age_ms", itemVectorMaxAge.toMillis());
    m.put("request_max_ahead_ms", requestMaxAhead.toMillis());
    m.put("two_tower_item_vectors_max", itemVectorsMax);
    m.put("redis_timeout_ms", redisTimeout.toMillis());
    m.put("auth", apiKeysFile != null);
    m.put("rate_limit_per_second", rateLimitPerSecond);
    m.put("rate_limit_burst", rateLimitBurst);
    m.put("log_sample_rate", logSampleRate);
    m.put("log_buffer_max_bytes", logBufferMaxBytes);
    m.put("max_candidates", io.feedrank.ranker.api.RankRequest.MAX_CANDIDATES);
    m.put("max_body_bytes", maxBodyBytes);
    m.put("http_event_loops", eventLoops);
    m.put("management_port", managementPort);
    m.put("shutdown_unready_ms", shutdownUnready.toMillis());
    m.put("shutdown_grace_ms", shutdownGrace.toMillis());
    m.put("warmup_requests", warmupRequests);
    m.put("warmup_candidates", warmupCandidates);
    m.put("warmup_max_ms", warmupMax.toMillis());
    return m;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static void require(String v, String key) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing config " + key);
    }
  }

  private static void within(long v, long lo, long hi, String key) {
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(key + " must be within " + lo + ".." + hi + ", got " + v);
    }
  }

  private static void fraction(double v, String key) {
    if (!(v >= 0 && v <= 1)) {
      throw new IllegalArgumentException(key + " must be within 0..1, got " + v);
    }
  }

  private static void notNegative(Duration d, String key) {
    if (d.isNegative()) {
      throw new IllegalArgumentException(key + " must be >= 0, got " + d.toMillis());
    }
  }

  /**
   * Every key checked here is in milliseconds: the message gives the value as given, not PT-0.001S.
   */
  private static void positive(Duration d, String key) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          key + " must be > 0, got " + (d == null ? null : d.toMillis()));
    }
  }

  private static Duration millis(Map<String, String> p, String key, long dflt) {
    return Duration.ofMillis(longOf(p, key, dflt));
  }

  private static int intOf(Map<String, String> p, String key, int dflt) {
    return ConfigMap.intOf(p, key, dflt, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }
}
