package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Keys that are read, with their bounds, and keys of the removed Jetty front that are refused. */
class RankerConfigTest {
  static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("redis.uri", "redis://127.0.0.1:6379");
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    return p;
  }

  @Test
  void autoRegisterSchemasReachesTheRankingLogsSerializer() {
    Map<String, String> p = required();
    assertThat(RankerApp.producerConfig(RankerConfig.from(p)))
        .containsEntry("auto.register.schemas", "true");
    p.put("auto.register.schemas", "false");
    assertThat(RankerApp.producerConfig(RankerConfig.from(p)))
        .containsEntry("auto.register.schemas", "false");
    p.put("auto.register.schemas", "nope");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessageContaining("auto.register.schemas must be true or false");
  }

  @Test
  void theRedisPoolAndTheLoopsAreTheirOwnKeys() {
    RankerConfig defaults = RankerConfig.from(required());
    assertThat(defaults.redisMaxConnections()).isEqualTo(64);
    assertThat(defaults.eventLoops()).isEqualTo(2 * Runtime.getRuntime().availableProcessors());
    Map<String, String> p = required();
    p.put("redis.max.connections", "12");
    p.put("http.event.loops", "3");
    p.put("http.server", " Vertx ");
    RankerConfig c = RankerConfig.from(p);
    assertThat(c.redisMaxConnections()).isEqualTo(12);
    assertThat(c.eventLoops()).isEqualTo(3);
    assertThat(c.publicView()).containsEntry("http_event_loops", 3);
    p.put("redis.max.connections", "0");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("redis.max.connections must be within 1..1024, got 0");
  }

  /**
   * A pool smaller than the threads that read Redis at once made a thread wait for a connection and
   * then fail a read the breaker counted against Redis; the default grows with the loops.
   */
  @Test
  void theRedisPoolHoldsAConnectionForEveryThreadThatReadsRedis() {
    Map<String, String> p = required();
    p.put("http.event.loops", "100"); // + 4 ops workers, the background refresh and the warm-up
    assertThat(RankerConfig.from(p).redisMaxConnections()).isEqualTo(106);
    p.put("redis.max.connections", "105");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage(
            "redis.max.connections must be at least the threads that read Redis at once, 106"
                + " (http.event.loops 100, 4 ops workers, the background refresh and the warm-up),"
                + " got 105");
    p.put("http.event.loops", "8");
    p.put("redis.max.connections", "14");
    assertThat(RankerConfig.from(p).redisMaxConnections()).isEqualTo(14);
    p.remove("redis.max.connections");
    assertThat(RankerConfig.from(p).redisMaxConnections()).isEqualTo(64);
  }

  @Test
  void howFarAheadARequestMayBeDatedIsAnHourByDefaultAndPositive() {
    assertThat(RankerConfig.from(required()).requestMaxAhead()).hasHours(1);
    Map<String, String> p = required();
    p.put("request.max.ahead.ms", Long.toString(Long.MAX_VALUE));
    assertThat(RankerConfig.from(p).requestMaxAhead().toMillis()).isEqualTo(Long.MAX_VALUE);
    p.put("request.max.ahead.ms", "0");
    assertThatThrownBy(() -> RankerConfig.from(p)).hasMessageContaining("request.max.ahead.ms");
  }

  @Test
  void theShutdownPeriodsDefaultToNoUnreadyServingAndTenSecondsOfDrainAndAreNotNegative() {
    RankerConfig defaults = RankerConfig.from(required());
    assertThat(defaults.shutdownUnready()).isZero();
    assertThat(defaults.shutdownGrace().toMillis()).isEqualTo(10_000);
    Map<String, String> p = required();
    p.put("shutdown.unready.ms", "5000");
    assertThat(RankerConfig.from(p).publicView()).containsEntry("shutdown_unready_ms", 5000L);
    p.put("shutdown.unready.ms", "-1");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("shutdown.unready.ms must be >= 0, got -1");
  }

  @Test
  void aKeyNothingReadsIsRefusedWithTheNearestKnownOneSoThatATypoCannotTurnAuthenticationOff() {
    Map<String, String> typo = required();
    typo.put("api.key.file", "/etc/feedrank/api-keys");
    assertThatThrownBy(() -> RankerConfig.from(typo))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unknown config key api.key.file (did you mean api.keys.file?):"
                + " the ranker reads no such key");
    Map<String, String> two = required();
    two.put("zzz", "1");
    two.put("rate.limit.per.secnd", "5");
    assertThatThrownBy(() -> RankerConfig.from(two))
        .hasMessage(
            "unknown config keys rate.limit.per.secnd (did you mean rate.limit.per.second?), zzz:"
                + " the ranker reads no such key");
    // what the ranker reads besides its own keys: Kafka clients' keys under kafka.*, the schema
    // registry client's keys and the serializer's
    Map<String, String> others = required();
    others.put("kafka.security.protocol", "PLAINTEXT");
    others.put("basic.auth.user.info", "user:secret");
    others.put("schema.registry.max.retries", "2");
    others.put("schema.registry.request.timeout.ms", "3000");
    others.put("auto.register.schemas", "false");
    RankerConfig c = RankerConfig.from(others);
    assertThat(c.kafkaOverrides()).containsEntry("security.protocol", "PLAINTEXT");
    assertThat(c.registryConfig().maxRetries()).isEqualTo(2);
    assertThat(c.apiKeysFile()).isNull();
  }

  /**
   * An empty keys file setting (a template whose variable was unset) is refused rather than taken
   * for "no authentication"; an infinite rate limit, which made every bucket refuse every request,
   * is refused too.
   */
  @Test
  void anEmptyKeysFileSettingAndAnInfiniteRateAreRefused() {
    Map<String, String> blank = required();
    blank.put("api.keys.file", " ");
    assertThatThrownBy(() -> RankerConfig.from(blank))
        .hasMessage("api.keys.file is empty; leave the key out to serve without authentication");
    Map<String, String> infinite = required();
    infinite.put("rate.limit.per.second", "Infinity");
    assertThatThrownBy(() -> RankerConfig.from(infinite))
        .hasMessage("rate.limit.per.second must be a finite number > 0, got Infinity");
    Map<String, String> keys = required();
    keys.put("api.keys.file", " /etc/feedrank/api-keys ");
    assertThat(RankerConfig.from(keys).apiKeysFile()).hasToString("/etc/feedrank/api-keys");
  }

  @Test
  void theManagementPortIsTheServicesUnlessGivenAndNotTheSameNumber() {
    assertThat(RankerConfig.from(required()).managementPort()).isEqualTo(-1);
    Map<String, String> p = required();
    p.put("management.port", "8081");
    assertThat(RankerConfig.from(p).managementPort()).isEqualTo(8081);
    p.put("port", "8081");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage(
            "management.port is port (8081); leave it out to serve the ops endpoints on the"
                + " service's port");
    p.put("port", "8080");
    p.put("management.port", "-2");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("management.port must be within -1..65535, got -2");
  }

  @Test
  void theJettyFrontsKeysAreRefused() {
    Map<String, String> jetty = required();
    jetty.put("http.server", "jetty");
    assertThatThrownBy(() -> RankerConfig.from(jetty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http.server=jetty is not available");
    Map<String, String> threads = required();
    threads.put("http.max.threads", "64");
    assertThatThrownBy(() -> RankerConfig.from(threads))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("redis.max.connections");
  }

  @Test
  void theWarmUpDefaultsToTwentyThousandRequestsWithinAMinuteAndZeroTurnsItOff() {
    RankerConfig defaults = RankerConfig.from(required());
    assertThat(defaults.warmupRequests()).isEqualTo(20_000);
    assertThat(defaults.warmupCandidates()).isEqualTo(100);
    assertThat(defaults.warmupMax().toMillis()).isEqualTo(60_000);
    Map<String, String> p = required();
    p.put("warmup.requests", "0");
    assertThat(RankerConfig.from(p).publicView()).containsEntry("warmup_requests", 0);
    p.put("warmup.candidates", "1001");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("warmup.candidates must be within 1..1000, got 1001");
    p.put("warmup.candidates", "100");
    p.put("warmup.max.ms", "0");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessageContaining("warmup.max.ms must be > 0");
  }

  /**
   * The ranking logs' queue is bounded by the bytes its entries hold as well as by their count: 64
   * MiB by default, 1 MiB at least (fifty entries of 1,000 candidates).
   */
  @Test
  void theRankingLogsQueueHoldsAtMostSixtyFourMebibytesByDefault() {
    RankerConfig defaults = RankerConfig.from(required());
    assertThat(defaults.logBufferSize()).isEqualTo(10_000);
    assertThat(defaults.logBufferMaxBytes()).isEqualTo(64L * 1024 * 1024);
    Map<String, String> p = required();
    p.put("log.buffer.max.bytes", "1048576");
    assertThat(RankerConfig.from(p).publicView()).containsEntry("log_buffer_max_bytes", 1_048_576L);
    p.put("log.buffer.max.bytes", "1048575");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("log.buffer.max.bytes must be within 1048576..1099511627776, got 1048575");
  }

  /** The registry's retries and credentials reach the config, and through it the serdes. */
  @Test
  void theRegistrysRetriesAndCredentialsAreReadAndABadOneIsRefusedByName() {
    Map<String, String> p = required();
    p.put("schema.registry.max.retries", "7");
    p.put("schema.registry.retry.backoff.ms", "250");
    p.put("basic.auth.user.info", "ranker:secret");
    RankerConfig c = RankerConfig.from(p);
    assertThat(c.registryConfig().maxRetries()).isEqualTo(7);
    assertThat(c.registryConfig().initialBackoff()).hasMillis(250);
    assertThat(c.registryConfig().basicAuthUserInfo()).isEqualTo("ranker:secret");
    assertThat(RankerConfig.from(required()).registryConfig().maxRetries()).isEqualTo(5);
    p.put("schema.registry.max.retries", "many");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessageContaining("schema.registry.max.retries must be an integer");
    p.remove("schema.registry.max.retries");
    p.remove("schema.registry.url");
    assertThatThrownBy(() -> RankerConfig.from(p)).hasMessage("missing config schema.registry.url");
  }

  /**
   * The timeout was cast to an int: 2147483648 wrapped negative (the ranker never became ready,
   * with no error) and 4294967346 became 50 ms while /v1/config showed the number given.
   */
  @Test
  void theRedisTimeoutIsBoundedNotWrapped() {
    Map<String, String> p = required();
    p.put("redis.timeout.ms", "60000");
    assertThat(RankerConfig.from(p).publicView()).containsEntry("redis_timeout_ms", 60_000L);
    p.put("redis.timeout.ms", "2147483648");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("redis.timeout.ms must be within 1..60000, got 2147483648");
    p.put("redis.timeout.ms", "4294967346");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("redis.timeout.ms must be within 1..60000, got 4294967346");
    p.put("redis.timeout.ms", "0");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .hasMessage("redis.timeout.ms must be within 1..60000, got 0");
  }

  /** A URI that is not Redis's is refused with the config, naming the key, password redacted. */
  @Test
  void aRedisUriThatIsNotOneIsRefusedWithTheConfig() {
    Map<String, String> p = required();
    p.put("redis.uri", "http://app:s3cret@h:1");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageEndingWith(": http://app:***@h:1");
    p.put("redis.uri", "redis://127.0.0.1:6379/3");
    assertThat(RankerConfig.from(p).redisUri()).isEqualTo("redis://127.0.0.1:6379/3");
  }

  /** A properties file keeps trailing spaces: model.name=feed-ranker matched no model. */
  @Test
  void stringValuesAreReadWithoutSurroundingWhitespace() {
    Map<String, String> p = required();
    p.put("model.name", "feed-ranker ");
    p.put("model.registry.topic", " model-registry\t");
    p.put("host", " 0.0.0.0 ");
    RankerConfig c = RankerConfig.from(p);
    assertThat(c.modelName()).isEqualTo("feed-ranker");
    assertThat(c.modelRegistryTopic()).isEqualTo("model-registry");
    assertThat(c.host()).isEqualTo("0.0.0.0");
  }

  /** The message gave the Duration, PT-0.001S, instead of the key's value as given. */
  @Test
  void aNonPositiveMillisecondsKeyIsRefusedWithTheValueAsGiven() {
    Map<String, String> p = required();
    p.put("cache.stale.ttl.ms", "-1");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cache.stale.ttl.ms must be > 0, got -1");
    Map<String, String> zero = required();
    zero.put("redis.breaker.open.ms", "0");
    assertThatThrownBy(() -> RankerConfig.from(zero))
        .hasMessage("redis.breaker.open.ms must be > 0, got 0");
  }

  /** kafka.bootstrap.servers replaced bootstrap.servers for the listener and the ranking logs. */
  @Test
  void aKafkaKeyRepeatingOneOfTheRankersOwnIsRefusedNamingBoth() {
    Map<String, String> p = required();
    p.put("kafka.bootstrap.servers", "elsewhere:9092");
    assertThatThrownBy(() -> RankerConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "kafka.bootstrap.servers duplicates bootstrap.servers, which the ranker sets itself:"
                + " give bootstrap.servers only");
    Map<String, String> registry = required();
    registry.put("kafka.schema.registry.url", "http://elsewhere:8081");
    assertThatThrownBy(() -> RankerConfig.from(registry))
        .hasMessageStartingWith("kafka.schema.registry.url duplicates schema.registry.url");
  }
}
