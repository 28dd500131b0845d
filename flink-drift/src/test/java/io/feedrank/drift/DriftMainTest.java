package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Where the job's Kafka sources start when it starts without a checkpoint, and in which consumer
 * groups they commit their offsets.
 */
@SuppressWarnings("deprecation") // the connector's API takes Kafka's OffsetResetStrategy
class DriftMainTest {
  static final List<TopicPartition> PARTITIONS =
      List.of(new TopicPartition("t", 0), new TopicPartition("t", 1));

  /**
   * A broker whose group has committed offset 5 of partition 0 and nothing of partition 1, and
   * whose partitions run from 0 to 100.
   */
  static final OffsetsInitializer.PartitionOffsetsRetriever BROKER =
      new OffsetsInitializer.PartitionOffsetsRetriever() {
        @Override
        public Map<TopicPartition, Long> committedOffsets(Collection<TopicPartition> ps) {
          return Map.of(PARTITIONS.get(0), 5L);
        }

        @Override
        public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> ps) {
          return Map.of(PARTITIONS.get(0), 100L, PARTITIONS.get(1), 100L);
        }

        @Override
        public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> ps) {
          return Map.of(PARTITIONS.get(0), 0L, PARTITIONS.get(1), 0L);
        }

        @Override
        public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
            Map<TopicPartition, Long> timestamps) {
          return Map.of();
        }
      };

  /** The Kafka sources of the job built from {@code extra} and the required keys, by name. */
  static Map<String, KafkaSource<?>> sources(Map<String, String> extra) {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:1");
    p.put("schema.registry.url", "http://127.0.0.1:1");
    p.put("group.id", "g");
    p.putAll(extra);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(p));
    Map<String, KafkaSource<?>> out = new TreeMap<>();
    for (Transformation<?> t : env.getTransformations()) {
      for (Transformation<?> u : t.getTransitivePredecessors()) {
        if (u instanceof SourceTransformation<?, ?, ?> s) {
          out.put(s.getName(), (KafkaSource<?>) s.getSource());
        }
      }
    }
    assertThat(out)
        .containsOnlyKeys(
            "training-examples",
            "ranking-logs",
            "ranking-logs (served)",
            "interactions",
            "model-registry");
    return out;
  }

  /** A private field of the connector's source: it has no getter for what is tested here. */
  static Object field(KafkaSource<?> source, String name) throws Exception {
    Field f = KafkaSource.class.getDeclaredField(name);
    f.setAccessible(true);
    return f.get(source);
  }

  static OffsetsInitializer starting(KafkaSource<?> source) throws Exception {
    return (OffsetsInitializer) field(source, "startingOffsetsInitializer");
  }

  static String groupId(KafkaSource<?> source) throws Exception {
    return ((Properties) field(source, "props")).getProperty("group.id");
  }

  /**
   * Started without a checkpoint, each source leaves the start to its reader at the group's
   * committed offset ({@link KafkaPartitionSplit#COMMITTED_OFFSET} for every partition: the offsets
   * {@code commit.offsets.on.checkpoint} wrote), reset to the latest where the group has none. It
   * took the end offsets before: a restart without a checkpoint skipped what came while the job was
   * down. The registry is read from its beginning whatever the setting.
   */
  @Test
  void withoutACheckpointTheSourcesGoOnFromTheirGroupsCommittedOffsets() throws Exception {
    Map<String, KafkaSource<?>> sources = sources(Map.of());
    for (Map.Entry<String, KafkaSource<?>> e : sources.entrySet()) {
      OffsetsInitializer start = starting(e.getValue());
      Map<TopicPartition, Long> offsets = start.getPartitionOffsets(PARTITIONS, BROKER);
      if (e.getKey().equals("model-registry")) {
        assertThat(offsets).as(e.getKey()).containsOnlyKeys(PARTITIONS);
        assertThat(offsets.values()).containsOnly(KafkaPartitionSplit.EARLIEST_OFFSET);
        continue;
      }
      assertThat(offsets.values())
          .as(e.getKey())
          .hasSize(2)
          .containsOnly(KafkaPartitionSplit.COMMITTED_OFFSET);
      assertThat(start.getAutoOffsetResetStrategy())
          .as(e.getKey())
          .isEqualTo(OffsetResetStrategy.LATEST);
      assertThat(((Properties) field(e.getValue(), "props")).getProperty("auto.offset.reset"))
          .as(e.getKey())
          .isEqualTo("latest");
    }
  }

  /** {@code from.earliest=true} starts every source at the topics' beginning, as before. */
  @Test
  void fromEarliestStartsEverySourceAtTheBeginning() throws Exception {
    for (Map.Entry<String, KafkaSource<?>> e :
        sources(Map.of("from.earliest", "true")).entrySet()) {
      OffsetsInitializer start = starting(e.getValue());
      assertThat(start.getPartitionOffsets(PARTITIONS, BROKER).values())
          .as(e.getKey())
          .hasSize(2)
          .containsOnly(KafkaPartitionSplit.EARLIEST_OFFSET);
      assertThat(start.getAutoOffsetResetStrategy())
          .as(e.getKey())
          .isEqualTo(OffsetResetStrategy.EARLIEST);
    }
  }

  /**
   * The {@code kafka.*} keys (credentials, TLS) reach every source and sink without their prefix;
   * the job's own settings win over them (isolation here; servers and groups, which a {@code
   * kafka.*} key may not repeat, are refused at the config: DriftConfigTest). Before, none reached
   * the clients, and the job could not read a secured cluster.
   */
  @Test
  void kafkaKeysReachEverySourceAndSinkAndTheJobsOwnSettingsWin() throws Exception {
    Map<String, String> extra =
        Map.of(
            "kafka.security.protocol", "SASL_SSL",
            "kafka.sasl.mechanism", "SCRAM-SHA-512",
            "kafka.isolation.level", "read_uncommitted");
    Map<String, KafkaSource<?>> sources = sources(extra);
    for (Map.Entry<String, KafkaSource<?>> e : sources.entrySet()) {
      Properties props = (Properties) field(e.getValue(), "props");
      assertThat(props.getProperty("security.protocol")).as(e.getKey()).isEqualTo("SASL_SSL");
      assertThat(props.getProperty("sasl.mechanism")).as(e.getKey()).isEqualTo("SCRAM-SHA-512");
      assertThat(props.getProperty("bootstrap.servers")).as(e.getKey()).isEqualTo("127.0.0.1:1");
      assertThat(props.getProperty("group.id")).as(e.getKey()).startsWith("g-");
      assertThat(props.getProperty("isolation.level")).as(e.getKey()).isEqualTo("read_committed");
    }
    sinks(extra)
        .forEach(
            (name, props) -> {
              assertThat(props.getProperty("security.protocol")).as(name).isEqualTo("SASL_SSL");
              assertThat(props.getProperty("bootstrap.servers")).as(name).isEqualTo("127.0.0.1:1");
            });
  }

  /** The producer properties of the job's Kafka sinks built from {@code extra}, by name. */
  static Map<String, Properties> sinks(Map<String, String> extra) throws Exception {
    Map<String, String> p = new HashMap<>(extra);
    p.put("bootstrap.servers", "127.0.0.1:1");
    p.put("schema.registry.url", "http://127.0.0.1:1");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(p));
    Map<String, Properties> sinks = new TreeMap<>();
    for (Transformation<?> t : env.getTransformations()) {
      if (t instanceof SinkTransformation<?, ?> s && s.getSink() instanceof KafkaSink<?> k) {
        Method config = KafkaSink.class.getDeclaredMethod("getKafkaProducerConfig");
        config.setAccessible(true);
        sinks.put(s.getName(), (Properties) config.invoke(k));
      }
    }
    assertThat(sinks).containsKeys("drift-reports", "alerts", "retrain-commands");
    return sinks;
  }

  /**
   * Every source and sink waits up to 10 s between attempts at a broker that is away: at Kafka's 1
   * s each of their clients wrote a "could not be established" WARN a second. A kafka.* key sets
   * another.
   */
  @Test
  void everySourceAndSinkRetriesABrokerAwayAtMostEveryTenSecondsUnlessAKafkaKeySaysOtherwise()
      throws Exception {
    assertThat(reconnectBackoffMax(Map.of())).containsOnly("10000");
    assertThat(reconnectBackoffMax(Map.of("kafka.reconnect.backoff.max.ms", "2000")))
        .containsOnly("2000");
  }

  /**
   * Each source looks for new partitions of its topic every 10 s: at the connector's 5 minutes, the
   * examples written to partitions added for a scale-out before the source found them were late by
   * then, and dropped. A kafka.* key sets another; a bounded source (tests) looks for none.
   */
  @Test
  void everySourceLooksForNewPartitionsEveryTenSecondsUnlessAKafkaKeySaysOtherwise()
      throws Exception {
    assertThat(discoveryIntervals(Map.of())).containsOnly("10000");
    assertThat(discoveryIntervals(Map.of("kafka.partition.discovery.interval.ms", "60000")))
        .containsOnly("60000");
    assertThat(discoveryIntervals(Map.of("bounded", "true"))).containsOnly("-1");
  }

  /** partition.discovery.interval.ms of each source of the job built from {@code extra}. */
  static List<String> discoveryIntervals(Map<String, String> extra) throws Exception {
    List<String> values = new ArrayList<>();
    for (KafkaSource<?> source : sources(extra).values()) {
      values.add(
          ((Properties) field(source, "props")).getProperty("partition.discovery.interval.ms"));
    }
    return values;
  }

  /** reconnect.backoff.max.ms of each source and sink of the job built from {@code extra}. */
  static List<String> reconnectBackoffMax(Map<String, String> extra) throws Exception {
    List<String> values = new ArrayList<>();
    for (KafkaSource<?> source : sources(extra).values()) {
      values.add(((Properties) field(source, "props")).getProperty("reconnect.backoff.max.ms"));
    }
    for (Properties sink : sinks(extra).values()) {
      values.add(sink.getProperty("reconnect.backoff.max.ms"));
    }
    return values;
  }

  /**
   * Each source commits in a group of its own: the two sources of {@code ranking-logs} in one group
   * committed over each other's offsets.
   */
  /**
   * As deployed by the operator (infra/k8s/flink-drift.yaml): the registry's credentials come from
   * the environment, filled from a Secret, not from the job's arguments; an argument wins.
   */
  @Test
  void theRegistrysCredentialsComeFromTheEnvironmentUnlessAnArgumentGivesThem() {
    String[] args = {"--bootstrap.servers", "kafka:9092", "--schema.registry.url", "http://r:8081"};
    Map<String, String> env = Map.of("FEEDRANK_REGISTRY_BASIC_AUTH", "drift:s3cret");
    assertThat(DriftConfig.from(DriftMain.arguments(args, env)).registry())
        .containsEntry("basic.auth.user.info", "drift:s3cret");
    String[] withAuth = {
      "--bootstrap.servers", "kafka:9092",
      "--schema.registry.url", "http://r:8081",
      "--basic.auth.user.info", "arg:pw"
    };
    assertThat(DriftMain.arguments(withAuth, env)).containsEntry("basic.auth.user.info", "arg:pw");
    assertThat(DriftMain.arguments(args, Map.of("FEEDRANK_REGISTRY_BASIC_AUTH", " ")))
        .doesNotContainKey("basic.auth.user.info");
  }

  @Test
  void eachSourceHasAConsumerGroupOfItsOwn() throws Exception {
    Map<String, String> groups = new TreeMap<>();
    for (Map.Entry<String, KafkaSource<?>> e : sources(Map.of()).entrySet()) {
      groups.put(e.getKey(), groupId(e.getValue()));
    }
    assertThat(groups)
        .containsOnly(
            Map.entry("training-examples", "g-examples"),
            Map.entry("ranking-logs", "g-scores"),
            Map.entry("ranking-logs (served)", "g-served"),
            Map.entry("interactions", "g-interactions"),
            Map.entry("model-registry", "g-registry"));
  }
}
