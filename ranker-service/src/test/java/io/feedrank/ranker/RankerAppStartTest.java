package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the ranker builds from its configuration before anything listens. */
class RankerAppStartTest {
  @TempDir Path dir;

  Map<String, String> config() {
    Map<String, String> p = RankerConfigTest.required();
    p.put("redis.uri", "redis://127.0.0.1:1"); // nothing is read before the start
    p.put("bootstrap.servers", "127.0.0.1:1");
    p.put("artifact.store", dir.toString());
    p.put("warmup.requests", "0");
    return p;
  }

  /**
   * A {@code kafka.*} key the Kafka clients refuse fails the start after the Redis pool and the
   * feature refresh thread exist: the failure names the key, and what was opened is closed, so the
   * JVM (that of {@code ./feedrank up}, say) keeps none of its threads.
   */
  @Test
  void aStartRefusedByKafkaClosesWhatItHadOpened() {
    Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
    Map<String, String> p = config();
    p.put("kafka.security.protocol", "CARRIER_PIGEON");
    assertThatThrownBy(() -> RankerApp.start(RankerConfig.from(p)))
        .hasMessageContaining("security.protocol");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> rankerThreadsSince(before).isEmpty());
  }

  /** The ranking-log producer's defaults give way to {@code kafka.*} keys. */
  @Test
  void kafkaKeysOverrideTheLogProducersDefaults() {
    Map<String, Object> defaults = RankerApp.producerConfig(RankerConfig.from(config()));
    assertThat(defaults)
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 100)
        // a broker away is tried every 10 s at most, not every second (a log line each time)
        .containsEntry(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 10_000)
        // the topic's partitions kept through an outage (RankingLogsKafkaOutageIT)
        .containsEntry(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none")
        .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1");
    Map<String, String> p = config();
    p.put("kafka.compression.type", "zstd");
    p.put("kafka.linger.ms", "5");
    Map<String, Object> set = RankerApp.producerConfig(RankerConfig.from(p));
    assertThat(set)
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd")
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "5")
        .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
  }

  /** The ranker's threads and Kafka clients' started since {@code before}, still alive. */
  static List<String> rankerThreadsSince(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !before.contains(t))
        .map(Thread::getName)
        .filter(n -> n.startsWith("ranker-") || n.startsWith("kafka-"))
        .toList();
  }

  /** A missing keys file stopped the start with the bare path, NoSuchFileException's text. */
  @Test
  void aMissingOrBadKeysFileIsRefusedNamingTheKey() throws Exception {
    Path missing = dir.resolve("x.keys");
    Map<String, String> p = config();
    p.put("api.keys.file", missing.toString());
    assertThatThrownBy(() -> RankerApp.start(RankerConfig.from(p)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("api.keys.file: no such file " + missing);
    java.nio.file.Files.writeString(missing, "# no keys\n");
    assertThatThrownBy(() -> RankerApp.start(RankerConfig.from(p)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("api.keys.file: " + missing + " holds no keys");
  }
}
