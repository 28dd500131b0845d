package io.feedrank.streams;

import static io.feedrank.avro.ConfigMap.longOf;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.streams.topology.BoundedTimestampExtractor;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.topology.RegistryAwareDeserializationHandler;
import io.feedrank.streams.topology.TableTimestampInterceptor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;

/**
 * Configuration of the features app, validated on construction. Loaded from a flat string map (a
 * properties file overlaid with {@code FEEDRANK_*} environment variables and command-line options
 * by the CLI); keys and defaults are in {@link #from}. Half-lives are not configuration: they are
 * part of feature schema v1 (1 h, 1 d, 7 d), which models record.
 */
public record FeaturesConfig(
    String bootstrapServers,
    RegistryConfig registryConfig,
    String redisUri,
    String applicationId,
    Path stateDir,
    int threads,
    Duration commitInterval,
    Duration redisTtl,
    Duration redisFlushInterval,
    Duration catchUpFlushInterval,
    int stateObjects,
    Duration maxAhead,
    Duration maxBehind,
    Duration maxAheadOfClock,
    Duration outputMaxAheadOfClock,
    String metricsHost,
    int metricsPort,
    TopicNames topics,
    Map<String, String> kafkaOverrides,
    boolean autoRegisterSchemas,
    int repartitionFormat,
    int maxCategoryBytes,
    long rocksDbMemoryBytes,
    List<Integer> earlierPartitionCounts) {

  public FeaturesConfig {
    require(bootstrapServers, "bootstrap.servers");
    Objects.requireNonNull(registryConfig, "registryConfig");
    require(redisUri, "redis.uri");
    RedisConnections.parse(redisUri); // refused here, naming the key, not at the first write
    require(applicationId, "application.id");
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("num.stream.threads must be within 1..64, got " + threads);
    }
    positive(commitInterval, "commit.interval.ms");
    // at most 10 years: the writer's PEXPIRE takes milliseconds (Long.MAX_VALUE seconds overflowed
    // a long), and Redis refused every PEXPIRE of 9e15 seconds' worth as an invalid expire time
    if (redisTtl.getSeconds() < 1 || redisTtl.getSeconds() > MAX_REDIS_TTL_SECONDS) {
      throw new IllegalArgumentException(
          "redis.ttl.seconds must be within 1.."
              + MAX_REDIS_TTL_SECONDS
              + " (10 years), got "
              + redisTtl.getSeconds());
    }
    positive(redisFlushInterval, "redis.flush.interval.ms");
    if (catchUpFlushInterval.isNegative()) {
      throw new IllegalArgumentException(
          "redis.catchup.flush.interval.ms must be >= 0, got " + catchUpFlushInterval.toMillis());
    }
    if (stateObjects < 0) {
      throw new IllegalArgumentException(
          "state.object.cache.entries must be >= 0, got " + stateObjects);
    }
    // negative bounds reached the topology as "maxAhead and maxBehind must be >= 0", naming no key
    notNegative(maxAhead, "validation.max.ahead.ms");
    notNegative(maxBehind, "validation.max.behind.ms");
    notNegative(maxAheadOfClock, "validation.max.ahead.of.clock.ms");
    notNegative(outputMaxAheadOfClock, "output.max.ahead.of.clock.ms");
    if (metricsPort < 0 || metricsPort > 65535) {
      throw new IllegalArgumentException(
          "metrics.port must be within 0..65535, got " + metricsPort);
    }
    FeatureTopology.Settings.checkRepartitionFormat(repartitionFormat);
    FeatureTopology.Settings.checkMaxCategoryBytes(maxCategoryBytes);
    if (rocksDbMemoryBytes != 0 && rocksDbMemoryBytes < MIN_ROCKSDB_MEMORY_BYTES) {
      throw new IllegalArgumentException(
          "rocksdb.memory.bytes must be 0 (Kafka Streams' own, unbounded) or at least "
              + MIN_ROCKSDB_MEMORY_BYTES
              + " (16 MiB), got "
              + rocksDbMemoryBytes);
    }
    earlierPartitionCounts = List.copyOf(earlierPartitionCounts);
    if (earlierPartitionCounts.stream().anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException(
          "interactions.earlier.partition.counts must be positive counts, got "
              + earlierPartitionCounts);
    }
    kafkaOverrides = Map.copyOf(kafkaOverrides);
  }

  /** The default {@code rocksdb.memory.bytes}: 512 MiB. */
  public static final long DEFAULT_ROCKSDB_MEMORY_BYTES = 512L * 1024 * 1024;

  /**
   * The smallest bound on RocksDB's memory: below it the memtables' half would make every store
   * flush after a few hundred KB.
   */
  static final long MIN_ROCKSDB_MEMORY_BYTES = 16L * 1024 * 1024;

  /** The longest {@code redis.ttl.seconds}: 10 years. */
  public static final long MAX_REDIS_TTL_SECONDS = 10 * 365 * 86_400L;

  /**
   * Reads the keys: {@code bootstrap.servers}, {@code schema.registry.url}, {@code redis.uri}
   * (required); the registry's other keys ({@link RegistryConfig#fromMap}: credentials, retries,
   * timeout); {@code application.id} (feedrank-features), {@code state.dir} (target/streams-state),
   * {@code num.stream.threads} (1), {@code commit.interval.ms} (500; Redis freshness follows the
   * flush interval, not commits), {@code redis.ttl.seconds} (30 days; at most 10 years), {@code
   * redis.flush.interval.ms} (100), {@code redis.catchup.flush.interval.ms} (1,000: the flush
   * interval while a task's records are more than that behind the wall clock; 0 = off), {@code
   * state.object.cache.entries} (10,000 unchanged users and as many items per task kept
   * deserialized in front of the state stores, besides those changed since the last commit; 0 =
   * none), {@code validation.max.ahead.ms} (1 h), {@code validation.max.behind.ms} (7 days), {@code
   * validation.max.ahead.of.clock.ms} (1 day; all three >= 0), {@code output.max.ahead.of.clock.ms}
   * (1 min: how far ahead of the clock an interaction record may be processed and its outputs
   * stamped, {@link io.feedrank.streams.topology.BoundedTimestampExtractor}; >= 0), {@code
   * metrics.host} (127.0.0.1), {@code metrics.port} (9401; 0 = off), {@code topic.suffix} (none),
   * {@code repartition.format} (2; 1 for the first bounce of a rolling upgrade from a version that
   * writes format 1), {@code items.category.max.bytes} (256, at most 4,096: an item whose category
   * is longer is kept with no category), {@code rocksdb.memory.bytes} (512 MiB: block cache and
   * memtables of all the process's RocksDB stores together, {@link BoundedRocksDbMemory}; 0 = Kafka
   * Streams' own per-store defaults, unbounded; else at least 16 MiB); any {@code kafka.*} key is
   * passed to Kafka Streams without the prefix.
   */
  public static FeaturesConfig from(Map<String, String> values) {
    return ConfigMap.read(values, "streams-features", FeaturesConfig::read);
  }

  private static FeaturesConfig read(Map<String, String> p) {
    Map<String, String> overrides = ConfigMap.kafkaKeys(p);
    for (String key : overrides.keySet()) {
      if (FIXED.contains(key)) {
        throw new IllegalArgumentException(
            ConfigMap.KAFKA_PREFIX
                + key
                + " cannot be set: the app runs exactly_once_v2 with its own exception handlers,"
                + " timestamp extractor and global consumer interceptor (DESIGN §8; README,"
                + " streams-features), on which its dead letters, its tables and its Redis writes"
                + " rely");
      }
    }
    // the overrides are applied last: kafka.application.id replaced application.id (and with it
    // the consumer group and every internal topic's name)
    ConfigMap.refuseKafkaDuplicates(
        overrides,
        Map.of(
            StreamsConfig.APPLICATION_ID_CONFIG, "application.id",
            StreamsConfig.STATE_DIR_CONFIG, "state.dir",
            StreamsConfig.NUM_STREAM_THREADS_CONFIG, "num.stream.threads",
            StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "commit.interval.ms"),
        "streams-features");
    String suffix = p.getOrDefault("topic.suffix", "");
    return new FeaturesConfig(
        p.get("bootstrap.servers"),
        RegistryConfig.fromMap(p),
        p.get("redis.uri"),
        p.getOrDefault("application.id", "feedrank-features"),
        Paths.get(p.getOrDefault("state.dir", "target/streams-state")),
        intOf(p, "num.stream.threads", 1),
        Duration.ofMillis(longOf(p, "commit.interval.ms", 500)),
        Duration.ofSeconds(
            longOf(p, "redis.ttl.seconds", FeatureTopology.Settings.DEFAULT_REDIS_TTL.toSeconds())),
        Duration.ofMillis(longOf(p, "redis.flush.interval.ms", 100)),
        Duration.ofMillis(longOf(p, "redis.catchup.flush.interval.ms", 1000)),
        intOf(p, "state.object.cache.entries", FeatureTopology.Settings.DEFAULT_STATE_OBJECTS),
        Duration.ofMillis(longOf(p, "validation.max.ahead.ms", Duration.ofHours(1).toMillis())),
        Duration.ofMillis(longOf(p, "validation.max.behind.ms", Duration.ofDays(7).toMillis())),
        Duration.ofMillis(
            longOf(p, "validation.max.ahead.of.clock.ms", Duration.ofDays(1).toMillis())),
        Duration.ofMillis(
            longOf(
                p,
                "output.max.ahead.of.clock.ms",
                FeatureTopology.Settings.DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK.toMillis())),
        p.getOrDefault("metrics.host", "127.0.0.1"),
        intOf(p, "metrics.port", 9401),
        TopicNames.defaults().withSuffix(suffix),
        overrides,
        AvroSerializer.autoRegister(p, true),
        intOf(p, "repartition.format", FeatureTopology.Settings.DEFAULT_REPARTITION_FORMAT),
        intOf(p, "items.category.max.bytes", FeatureTopology.Settings.DEFAULT_MAX_CATEGORY_BYTES),
        longOf(p, "rocksdb.memory.bytes", DEFAULT_ROCKSDB_MEMORY_BYTES),
        countsOf(p, "interactions.earlier.partition.counts"));
  }

  /** A comma-separated list of counts, empty when the key is absent or blank. */
  private static List<Integer> countsOf(Map<String, String> p, String key) {
    String value = p.getOrDefault(key, "").strip();
    if (value.isEmpty()) {
      return List.of();
    }
    try {
      return Arrays.stream(value.split(",")).map(v -> Integer.valueOf(v.strip())).toList();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key + " must be a comma-separated list of partition counts, got " + value, e);
    }
  }

  /**
   * The largest dead letter the app's producer sends: its {@code max.request.size} ({@code
   * kafka.producer.max.request.size}, else {@code kafka.max.request.size}, else Kafka's 1 MiB).
   */
  public int maxDeadLetterBytes() {
    String producer = StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    return intOf(
        kafkaOverrides,
        kafkaOverrides.containsKey(producer) ? producer : ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
        FeatureTopology.Settings.DEFAULT_MAX_DEAD_LETTER_BYTES);
  }

  /** Kafka Streams keys the {@code kafka.*} overrides may not change. */
  static final java.util.Set<String> FIXED =
      java.util.Set.of(
          StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
          StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
          StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
          StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
          StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG,
          StreamsConfig.globalConsumerPrefix(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG));

  /**
   * Kafka Streams properties: exactly-once v2, the exception handlers, timestamp extractor and
   * global consumer interceptor, then the overrides.
   */
  public Properties streamsProperties() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1); // the broker's default
    // interactions are deserialized and dead-lettered by the topology itself; this covers the
    // items and users tables and internal topics: skip what cannot be read, unless the registry
    // could not be asked
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        RegistryAwareDeserializationHandler.class);
    props.put(
        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DefaultProductionExceptionHandler.class);
    // the interactions topic has its own, bounded by the clock (FeatureTopology); this one reads
    // the repartition topic, and Kafka Streams' default fails the thread on a negative timestamp
    props.put(
        StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, BoundedTimestampExtractor.class);
    // the global tables' records are read at their own timestamps, whatever the extractor, and
    // Kafka Streams fails the global thread, and so the app, on a negative one
    props.put(
        StreamsConfig.globalConsumerPrefix(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG),
        TableTimestampInterceptor.class.getName());
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 100);
    // each event is a repartition record and a training example of ~0.5-1 KB: at the default 16 KB
    // a batch filled in a few ms, and every new batch cost an LZ4 frame header (a JNI xxhash call,
    // 8.7% of the stream threads) and a request's worth of broker work; 512 KB batches gave the
    // backlog 1.3-1.55x the rate (BENCHMARKS.md). The buffer holds ~60 partitions' open batches.
    props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 512 * 1024);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG), 64L * 1024 * 1024);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2000);
    // every task reads one partition (the interactions or the repartition topic), so there is no
    // order across partitions to wait for; and with idling on, Kafka Streams 4.3.1 builds its
    // not-ready log messages with String.format each time a task's queue runs empty, whether or
    // not they are logged: 6% of the stream threads (JFR). Revisit if a task ever joins two topics.
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
    // the global tables are restored partition by partition, and the fetch at each partition's
    // end waited the default 500 ms: 12 s of start-up for 24 partitions, 1.6 s at this setting
    props.put(StreamsConfig.globalConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 50);
    // the record cache now fronts only the users global table (the entity stores write back once
    // per commit, WriteBackStore); room for every user's profile
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    // unprefixed, for every client of the instance: consumers, producers, restore and global
    // consumers, admin
    props.put(StreamsConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
    if (rocksDbMemoryBytes > 0) {
      // a kafka.rocksdb.config.setter override replaces this one, and owns RocksDB's memory
      props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class);
      props.put(BoundedRocksDbMemory.BYTES_CONFIG, rocksDbMemoryBytes);
    }
    props.putAll(kafkaOverrides);
    return props;
  }

  private static void require(String v, String key) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing config " + key);
    }
  }

  private static void notNegative(Duration d, String key) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(
          key + " must be >= 0, got " + (d == null ? null : d.toMillis()));
    }
  }

  private static void positive(Duration d, String key) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          key + " must be > 0, got " + (d == null ? null : d.toMillis()));
    }
  }

  private static int intOf(Map<String, String> p, String key, int dflt) {
    return ConfigMap.intOf(p, key, dflt, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  @Override
  public String toString() {
    return "FeaturesConfig[app="
        + applicationId
        + ", kafka="
        + bootstrapServers
        + ", registry="
        + registryConfig.urls()
        + ", redis="
        + RedisConnections.redacted(redisUri)
        + ", threads="
        + threads
        + ", stateDir="
        + stateDir
        + ", topics="
        + topics
        + ", repartitionFormat="
        + repartitionFormat
        + "]";
  }
}
