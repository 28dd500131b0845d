package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.localstack.Ports;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * What the drift job's sources do with a record they cannot read. Bytes that are not the wire
 * format are skipped and counted ({@code drift.records.undecodable}; {@code ranking-logs} is read
 * twice and counted once, by {@link RankingScores}), {@code model-registry}'s too. A well-formed
 * record whose writer schema the registry cannot give (here nothing listens at its address) fails
 * the source instead, so that the job restarts from its checkpoint and reads it again, and it is
 * not counted.
 */
class UnreadableRecordsTest {
  static final EventTimeBound ANY_TIME = new EventTimeBound(EventTimeBound.NONE);

  private final Map<String, String> unreachable =
      Map.of(
          RegistryConfig.URL,
          "http://127.0.0.1:" + Ports.freePort(),
          RegistryConfig.MAX_RETRIES,
          "0");

  @Test
  void interactions() throws Exception {
    check(new EngagedImpressions(unreachable, ANY_TIME), true);
  }

  @Test
  void trainingExamples() throws Exception {
    check(new ExampleFeatures(unreachable, null, ANY_TIME), true);
  }

  @Test
  void rankingLogsForScores() throws Exception {
    check(new RankingScores(unreachable, "ranker", ANY_TIME), true);
  }

  @Test
  void rankingLogsForServedVersions() throws Exception {
    check(new ServedResponses(unreachable, "ranker", ANY_TIME), false);
  }

  /**
   * An unreadable record on {@code model-registry} (a promotion the job cannot read would leave it
   * measuring against the previous reference) is counted as the other sources' are; a tombstone
   * (compaction's delete) is not a bad record and is neither counted nor emitted.
   */
  @Test
  void modelRegistry() throws Exception {
    RegistryRecords source = new RegistryRecords(unreachable);
    check(source, true);
    CountingGroup metrics = new CountingGroup();
    source.open(context(metrics));
    List<io.feedrank.drift.job.ServingReference> out = new ArrayList<>();
    source.deserialize(record(null), collector(out));
    assertThat(out).isEmpty();
    assertThat(metrics.undecodable()).isZero();
  }

  private static <T> void check(KafkaRecordDeserializationSchema<T> source, boolean counts)
      throws Exception {
    CountingGroup metrics = new CountingGroup();
    source.open(context(metrics));
    List<T> out = new ArrayList<>();
    Collector<T> collector = collector(out);

    source.deserialize(record("not avro".getBytes()), collector);
    source.deserialize(record(new byte[] {0, 0, 0}), collector);
    assertThat(out).isEmpty();
    assertThat(metrics.undecodable()).isEqualTo(counts ? 2 : 0);

    // the wire format's header (magic byte 0, schema id 42), then a body
    byte[] wellFormed = {0, 0, 0, 0, 42, 2, 'x'};
    assertThatThrownBy(() -> source.deserialize(record(wellFormed), collector))
        .isInstanceOf(RegistryUnavailableException.class)
        .hasMessageContaining("schema id 42");
    assertThat(out).isEmpty();
    assertThat(metrics.undecodable()).isEqualTo(counts ? 2 : 0);
  }

  private static ConsumerRecord<byte[], byte[]> record(byte[] value) {
    return new ConsumerRecord<>("a-topic", 0, 7L, null, value);
  }

  static <T> Collector<T> collector(List<T> out) {
    return new Collector<>() {
      @Override
      public void collect(T t) {
        out.add(t);
      }

      @Override
      public void close() {}
    };
  }

  static DeserializationSchema.InitializationContext context(MetricGroup metrics) {
    return new DeserializationSchema.InitializationContext() {
      @Override
      public MetricGroup getMetricGroup() {
        return metrics;
      }

      @Override
      public UserCodeClassLoader getUserCodeClassLoader() {
        return SimpleUserCodeClassLoader.create(UnreadableRecordsTest.class.getClassLoader());
      }
    };
  }

  /** Keeps the counter a source registers as {@code drift.records.undecodable}. */
  static final class CountingGroup extends UnregisteredMetricsGroup {
    private Counter undecodable;

    @Override
    public Counter counter(String name) {
      return counter(name, new SimpleCounter());
    }

    @Override
    public <C extends Counter> C counter(String name, C counter) {
      if (name.equals("drift.records.undecodable")) {
        undecodable = counter;
      }
      return counter;
    }

    long undecodable() {
      return undecodable == null ? 0 : undecodable.getCount();
    }
  }
}
