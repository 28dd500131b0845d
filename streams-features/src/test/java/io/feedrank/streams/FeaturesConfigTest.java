package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.streams.topology.BoundedTimestampExtractor;
import io.feedrank.streams.topology.TableTimestampInterceptor;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** The registry's keys: all of them are read, and a bad one is refused by its name. */
class FeaturesConfigTest {
  private static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    p.put("redis.uri", "redis://127.0.0.1:6379");
    return p;
  }

  @Test
  void aKeyTheAppDoesNotReadIsRefusedWithTheNearestKnownOne() {
    Map<String, String> p = required();
    p.put("redis.ttl.secs", "60");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage(
            "unknown config key redis.ttl.secs (did you mean redis.ttl.seconds?):"
                + " streams-features reads no such key");
    Map<String, String> known = required();
    known.put("kafka.num.standby.replicas", "1");
    known.put("basic.auth.user.info", "u:p");
    known.put("topic.suffix", "-x");
    assertThat(FeaturesConfig.from(known).kafkaOverrides())
        .containsEntry("num.standby.replicas", "1");
  }

  @Test
  void autoRegisterSchemasIsReadAndABadValueRefusedByName() {
    Map<String, String> p = required();
    assertThat(FeaturesConfig.from(p).autoRegisterSchemas()).isTrue();
    p.put("auto.register.schemas", "false");
    assertThat(FeaturesConfig.from(p).autoRegisterSchemas()).isFalse();
    p.put("auto.register.schemas", "no");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessageContaining("auto.register.schemas must be true or false");
  }

  /**
   * repartition.format: 2 unless set; 1 for the first bounce of a rolling upgrade from a version
   * that cannot read 2; anything else refused by name.
   */
  @Test
  void repartitionFormatIsTwoUnlessSetToOneAndAnythingElseIsRefusedByName() {
    Map<String, String> p = required();
    assertThat(FeaturesConfig.from(p).repartitionFormat()).isEqualTo(2);
    p.put("repartition.format", "1");
    assertThat(FeaturesConfig.from(p).repartitionFormat()).isEqualTo(1);
    p.put("repartition.format", "2");
    assertThat(FeaturesConfig.from(p).repartitionFormat()).isEqualTo(2);
    for (String bad : new String[] {"0", "3", "-1"}) {
      p.put("repartition.format", bad);
      assertThatThrownBy(() -> FeaturesConfig.from(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("repartition.format must be 2 (the default) or 1")
          .hasMessageEndingWith("got " + bad);
    }
    p.put("repartition.format", "two");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage("repartition.format must be an integer, got 'two'");
  }

  /** items.category.max.bytes: 256 unless set, within 1..4096, refused by name otherwise. */
  @Test
  void theLongestItemCategoryIs256BytesUnlessSetWithinItsBounds() {
    Map<String, String> p = required();
    assertThat(FeaturesConfig.from(p).maxCategoryBytes()).isEqualTo(256);
    p.put("items.category.max.bytes", "1");
    assertThat(FeaturesConfig.from(p).maxCategoryBytes()).isEqualTo(1);
    p.put("items.category.max.bytes", "4096");
    assertThat(FeaturesConfig.from(p).maxCategoryBytes()).isEqualTo(4096);
    for (String bad : new String[] {"0", "4097", "-1"}) {
      p.put("items.category.max.bytes", bad);
      assertThatThrownBy(() -> FeaturesConfig.from(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("items.category.max.bytes must be within 1..4096, got " + bad);
    }
  }

  /** The dead letters' size limit follows the producer's max.request.size, as Kafka reads it. */
  @Test
  void earlierPartitionCountsAreAListOfPositiveCountsNoneUnlessSet() {
    Map<String, String> p = required();
    assertThat(FeaturesConfig.from(p).earlierPartitionCounts()).isEmpty();
    p.put("interactions.earlier.partition.counts", "6, 12");
    assertThat(FeaturesConfig.from(p).earlierPartitionCounts()).containsExactly(6, 12);
    p.put("interactions.earlier.partition.counts", "12,x");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage(
            "interactions.earlier.partition.counts must be a comma-separated list of partition"
                + " counts, got 12,x");
    p.put("interactions.earlier.partition.counts", "0");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage("interactions.earlier.partition.counts must be positive counts, got [0]");
  }

  @Test
  void theDeadLettersLimitIsTheProducersMaxRequestSize() {
    Map<String, String> p = required();
    assertThat(FeaturesConfig.from(p).maxDeadLetterBytes()).isEqualTo(1_048_576);
    p.put("kafka.max.request.size", "2000000");
    assertThat(FeaturesConfig.from(p).maxDeadLetterBytes()).isEqualTo(2_000_000);
    // the producer's own key wins over the one every client reads, as in Kafka Streams
    p.put("kafka.producer.max.request.size", "300000");
    assertThat(FeaturesConfig.from(p).maxDeadLetterBytes()).isEqualTo(300_000);
    p.put("kafka.producer.max.request.size", "big");
    assertThatThrownBy(() -> FeaturesConfig.from(p).maxDeadLetterBytes())
        .hasMessageContaining("max.request.size must be an integer, got 'big'");
  }

  /**
   * Exactly-once and the exception handlers cannot be overridden through kafka.* keys (DESIGN §8:
   * Streams runs exactly_once_v2); other Streams keys can.
   */
  @Test
  void exactlyOnceAndTheHandlersCannotBeOverridden() {
    for (String key :
        new String[] {
          "processing.guarantee",
          "deserialization.exception.handler",
          "processing.exception.handler",
          "production.exception.handler"
        }) {
      Map<String, String> p = required();
      p.put("kafka." + key, "at_least_once");
      assertThatThrownBy(() -> FeaturesConfig.from(p))
          .hasMessageContaining("kafka." + key + " cannot be set");
    }
    Map<String, String> p = required();
    p.put("kafka.num.standby.replicas", "1");
    java.util.Properties props = FeaturesConfig.from(p).streamsProperties();
    assertThat(props.get("processing.guarantee")).isEqualTo("exactly_once_v2");
    assertThat(props.get("num.standby.replicas")).isEqualTo("1");
  }

  /** The configuration is logged at start and printed by {@code feedrank streams}. */
  @Test
  void itsTextShowsNoPassword() {
    Map<String, String> p = required();
    p.put("basic.auth.user.info", "app:registry-secret");
    p.put("redis.uri", "redis://app:s3cret@10.0.0.7:6380");
    assertThat(FeaturesConfig.from(p).toString())
        .contains("redis://app:***@10.0.0.7:6380")
        .doesNotContain("s3cret")
        .doesNotContain("registry-secret");
    p.put("redis.uri", "rediss-cluster://s3cret@a:1,b:2");
    assertThat(FeaturesConfig.from(p).toString())
        .contains("rediss-cluster://***@a:1,b:2")
        .doesNotContain("s3cret");
    p.put("redis.uri", "redis://10.0.0.7:6380");
    assertThat(FeaturesConfig.from(p).toString()).contains("redis://10.0.0.7:6380");
  }

  @Test
  void theRegistrysRetriesAndCredentialsAreReadAndABadOneIsRefusedByName() {
    Map<String, String> p = required();
    p.put("schema.registry.max.retries", "7");
    p.put("schema.registry.retry.backoff.max.ms", "3000");
    p.put("schema.registry.request.timeout.ms", "1500");
    p.put("basic.auth.user.info", "app:secret");
    RegistryConfig r = FeaturesConfig.from(p).registryConfig();
    assertThat(r.maxRetries()).isEqualTo(7);
    assertThat(r.maxBackoff()).hasMillis(3000);
    assertThat(r.requestTimeout()).hasMillis(1500);
    assertThat(r.basicAuthUserInfo()).isEqualTo("app:secret");
    assertThat(FeaturesConfig.from(required()).registryConfig())
        .isEqualTo(RegistryConfig.of(p.get("schema.registry.url")));
    p.put("schema.registry.retry.backoff.ms", "-1");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessageContaining("schema.registry.retry.backoff.ms must be > 0");
    p.remove("schema.registry.retry.backoff.ms");
    p.remove("schema.registry.url");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage("missing config schema.registry.url");
  }

  /** A properties file keeps trailing spaces: application.id=x would name other topics. */
  @Test
  void stringValuesAreReadWithoutSurroundingWhitespace() {
    Map<String, String> p = required();
    p.put("application.id", "feedrank-features ");
    p.put("redis.uri", " redis://127.0.0.1:6379 ");
    FeaturesConfig c = FeaturesConfig.from(p);
    assertThat(c.applicationId()).isEqualTo("feedrank-features");
    assertThat(c.redisUri()).isEqualTo("redis://127.0.0.1:6379");
  }

  /**
   * Kafka Streams' default timestamp extractor fails the stream thread on a negative timestamp, and
   * its replacement on the same record, for ever: the app's own is not to be replaced by it.
   */
  @Test
  void theTimestampExtractorCannotBeOverridden() {
    Map<String, String> p = required();
    p.put(
        "kafka.default.timestamp.extractor",
        "org.apache.kafka.streams.processor.FailOnInvalidTimestamp");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessageContaining("kafka.default.timestamp.extractor cannot be set");
    assertThat(FeaturesConfig.from(required()).streamsProperties())
        .containsEntry("default.timestamp.extractor", BoundedTimestampExtractor.class);
  }

  /**
   * RocksDB's memory is bounded by default ({@link BoundedRocksDbMemory}, 512 MiB); 0 leaves Kafka
   * Streams' per-store defaults; a bound too small to work is refused, naming the key; a setter of
   * the operator's own replaces ours.
   */
  @Test
  void rocksDbMemoryIsBoundedUnlessSetToZero() {
    assertThat(FeaturesConfig.from(required()).streamsProperties())
        .containsEntry(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class)
        .containsEntry(BoundedRocksDbMemory.BYTES_CONFIG, 512L * 1024 * 1024);

    Map<String, String> off = required();
    off.put("rocksdb.memory.bytes", "0");
    assertThat(FeaturesConfig.from(off).streamsProperties())
        .doesNotContainKeys(
            StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.BYTES_CONFIG);

    Map<String, String> small = required();
    small.put("rocksdb.memory.bytes", "1048576");
    assertThatThrownBy(() -> FeaturesConfig.from(small))
        .hasMessageContaining("rocksdb.memory.bytes must be 0")
        .hasMessageContaining("got 1048576");

    Map<String, String> own = required();
    own.put("kafka.rocksdb.config.setter", "com.example.Setter");
    assertThat(FeaturesConfig.from(own).streamsProperties())
        .containsEntry(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, "com.example.Setter");
  }

  /**
   * Kafka Streams reads the global tables' records at their own timestamps and fails the app on a
   * negative one: the global consumer restamps them, whatever consumer interceptor the overrides
   * name, and its own cannot be replaced.
   */
  @Test
  void theGlobalConsumerRestampsRecordsWithoutATimestampAndThatCannotBeOverridden() {
    Map<String, String> p = required();
    p.put("kafka.consumer.interceptor.classes", "com.example.Other");
    p.put("kafka.interceptor.classes", "com.example.Other");
    Map<String, Object> global =
        new StreamsConfig(FeaturesConfig.from(p).streamsProperties())
            .getGlobalConsumerConfigs("client");
    assertThat(global)
        .containsEntry(
            ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, TableTimestampInterceptor.class.getName());

    Map<String, String> replaced = required();
    replaced.put("kafka.global.consumer.interceptor.classes", "com.example.Other");
    assertThatThrownBy(() -> FeaturesConfig.from(replaced))
        .hasMessageContaining("kafka.global.consumer.interceptor.classes cannot be set");
  }

  @Test
  void outputsAreStampedAtMostAMinutePastTheClockUnlessSetAndANegativeBoundIsRefusedByName() {
    assertThat(FeaturesConfig.from(required()).outputMaxAheadOfClock())
        .isEqualTo(Duration.ofMinutes(1));
    Map<String, String> p = required();
    p.put("output.max.ahead.of.clock.ms", Long.toString(Long.MAX_VALUE));
    assertThat(FeaturesConfig.from(p).outputMaxAheadOfClock())
        .isEqualTo(Duration.ofMillis(Long.MAX_VALUE));
    p.put("output.max.ahead.of.clock.ms", "-1");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("output.max.ahead.of.clock.ms must be >= 0, got -1");
  }

  /** -5 reached the topology, whose message named no key: "maxAhead and maxBehind must be >= 0". */
  @Test
  void negativeEventTimeBoundsAreRefusedNamingTheKey() {
    Map<String, String> ahead = required();
    ahead.put("validation.max.ahead.ms", "-5");
    assertThatThrownBy(() -> FeaturesConfig.from(ahead))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("validation.max.ahead.ms must be >= 0, got -5");
    Map<String, String> behind = required();
    behind.put("validation.max.behind.ms", "-1");
    assertThatThrownBy(() -> FeaturesConfig.from(behind))
        .hasMessage("validation.max.behind.ms must be >= 0, got -1");
    Map<String, String> clock = required();
    clock.put("validation.max.ahead.of.clock.ms", "-1");
    assertThatThrownBy(() -> FeaturesConfig.from(clock))
        .hasMessage("validation.max.ahead.of.clock.ms must be >= 0, got -1");
    ahead.put("validation.max.ahead.ms", "0");
    assertThat(FeaturesConfig.from(ahead).maxAhead()).isZero();
    assertThat(FeaturesConfig.from(required()).maxAheadOfClock()).isEqualTo(Duration.ofDays(1));
  }

  /**
   * Long.MAX_VALUE overflowed the writer's milliseconds; 9e15 s made Redis refuse every PEXPIRE.
   */
  @Test
  void theRedisTtlIsAtMostTenYearsNamingTheKey() {
    Map<String, String> p = required();
    p.put("redis.ttl.seconds", "9223372036854775807");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "redis.ttl.seconds must be within 1..315360000 (10 years), got 9223372036854775807");
    p.put("redis.ttl.seconds", "9000000000000000");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessageStartingWith("redis.ttl.seconds must be within 1..315360000");
    p.put("redis.ttl.seconds", "0");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .hasMessage("redis.ttl.seconds must be within 1..315360000 (10 years), got 0");
    p.put("redis.ttl.seconds", "315360000");
    assertThat(FeaturesConfig.from(p).redisTtl()).hasDays(3650);
  }

  /** A URI that is not Redis's is refused with the config, naming the key, password redacted. */
  @Test
  void aRedisUriThatIsNotOneIsRefusedWithTheConfig() {
    Map<String, String> p = required();
    p.put("redis.uri", "localhost:6379");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageEndingWith(": localhost:6379");
  }

  /**
   * Every client of the instance waits up to 10 s between attempts at a broker that is away: at
   * Kafka's 1 s each wrote a "could not be established" WARN a second. A kafka.* key sets another.
   */
  @Test
  void everyClientRetriesABrokerAwayAtMostEveryTenSecondsUnlessAKafkaKeySaysOtherwise() {
    assertThat(reconnectBackoffMaxOfEachClient(required())).containsOnly("10000");
    Map<String, String> p = required();
    p.put("kafka.reconnect.backoff.max.ms", "2000");
    assertThat(reconnectBackoffMaxOfEachClient(p)).containsOnly("2000");
  }

  /** reconnect.backoff.max.ms of each client Kafka Streams builds from the app's properties. */
  private static List<String> reconnectBackoffMaxOfEachClient(Map<String, String> p) {
    StreamsConfig c = new StreamsConfig(FeaturesConfig.from(p).streamsProperties());
    return Stream.of(
            c.getMainConsumerConfigs("group", "client", 0),
            c.getRestoreConsumerConfigs("client"),
            c.getGlobalConsumerConfigs("client"),
            c.getProducerConfigs("client"),
            c.getAdminConfigs("client"))
        .map(m -> String.valueOf(m.get(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG)))
        .toList();
  }

  /** kafka.application.id silently replaced application.id: another group, other topics. */
  @Test
  void aKafkaKeyRepeatingOneOfTheAppsOwnIsRefusedNamingBoth() {
    Map<String, String> p = required();
    p.put("kafka.application.id", "x");
    assertThatThrownBy(() -> FeaturesConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "kafka.application.id duplicates application.id, which streams-features sets itself:"
                + " give application.id only");
    for (String key : new String[] {"bootstrap.servers", "state.dir", "commit.interval.ms"}) {
      Map<String, String> q = required();
      q.put("kafka." + key, "1");
      assertThatThrownBy(() -> FeaturesConfig.from(q))
          .hasMessageStartingWith("kafka." + key + " duplicates " + key + ", ");
    }
    Map<String, String> ok = required();
    ok.put("kafka.num.standby.replicas", "1");
    assertThat(FeaturesConfig.from(ok).streamsProperties())
        .containsEntry("num.standby.replicas", "1");
  }
}
