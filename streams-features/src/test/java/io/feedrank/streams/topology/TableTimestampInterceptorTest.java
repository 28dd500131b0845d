package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class TableTimestampInterceptorTest {
  static final long NOW = 1_790_000_000_000L;
  final TableTimestampInterceptor interceptor = new TableTimestampInterceptor(() -> NOW);
  final TopicPartition users = new TopicPartition("users", 0);
  final TopicPartition items = new TopicPartition("items", 3);

  /**
   * A record without a timestamp gets the clock's, and keeps all else; its neighbours, and the
   * offsets the consumer reads on from, are as they were.
   */
  @Test
  void aRecordWithoutATimestampGetsTheClocksAndTheRestAreUntouched() {
    ConsumerRecord<byte[], byte[]> before = record(users, 10, 1_000L);
    ConsumerRecord<byte[], byte[]> none = record(users, 11, -1L);
    ConsumerRecord<byte[], byte[]> zero = record(users, 12, 0L);
    ConsumerRecord<byte[], byte[]> other = record(items, 5, 2_000L);
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> in = new LinkedHashMap<>();
    in.put(users, List.of(before, none, zero));
    in.put(items, List.of(other));
    Map<TopicPartition, OffsetAndMetadata> next =
        Map.of(users, new OffsetAndMetadata(13), items, new OffsetAndMetadata(6));

    ConsumerRecords<byte[], byte[]> out = interceptor.onConsume(new ConsumerRecords<>(in, next));

    assertThat(out.nextOffsets()).isEqualTo(next);
    assertThat(out.records(items)).containsExactly(other);
    List<ConsumerRecord<byte[], byte[]>> got = out.records(users);
    assertThat(got).hasSize(3);
    assertThat(got.get(0)).isSameAs(before);
    assertThat(got.get(2)).isSameAs(zero);
    ConsumerRecord<byte[], byte[]> restamped = got.get(1);
    assertThat(restamped.timestamp()).isEqualTo(NOW);
    assertThat(restamped.topic()).isEqualTo("users");
    assertThat(restamped.partition()).isEqualTo(0);
    assertThat(restamped.offset()).isEqualTo(11);
    assertThat(restamped.key()).isSameAs(none.key());
    assertThat(restamped.value()).isSameAs(none.value());
    assertThat(restamped.headers()).isSameAs(none.headers());
    assertThat(restamped.timestampType()).isEqualTo(none.timestampType());
    assertThat(restamped.serializedKeySize()).isEqualTo(none.serializedKeySize());
    assertThat(restamped.serializedValueSize()).isEqualTo(none.serializedValueSize());
    assertThat(restamped.leaderEpoch()).isEqualTo(none.leaderEpoch());
  }

  /** A poll of records that all have timestamps is passed on as it came. */
  @Test
  void recordsWithTimestampsArePassedOnAsTheyCame() {
    ConsumerRecords<byte[], byte[]> in =
        new ConsumerRecords<>(
            Map.of(users, List.of(record(users, 0, 0L), record(users, 1, NOW + 5))),
            Map.of(users, new OffsetAndMetadata(2)));
    assertThat(interceptor.onConsume(in)).isSameAs(in);
  }

  private static ConsumerRecord<byte[], byte[]> record(
      TopicPartition tp, long offset, long timestamp) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("h", new byte[] {1});
    return new ConsumerRecord<>(
        tp.topic(),
        tp.partition(),
        offset,
        timestamp,
        TimestampType.CREATE_TIME,
        8,
        3,
        new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) offset},
        new byte[] {1, 2, 3},
        headers,
        Optional.of(7));
  }
}
