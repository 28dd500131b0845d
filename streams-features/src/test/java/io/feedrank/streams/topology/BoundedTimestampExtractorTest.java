package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The timestamp a record is processed at, and the record's own kept where they differ. */
class BoundedTimestampExtractorTest {
  static final long NOW = 1_796_000_000_000L; // 2026-11-30T00:53:20Z
  static final long MINUTE = 60_000L;
  final BoundedTimestampExtractor tenMinutes =
      new BoundedTimestampExtractor(() -> NOW, Duration.ofMinutes(10));

  static ConsumerRecord<Object, Object> record(long timestamp) {
    return new ConsumerRecord<>(
        "interactions",
        0,
        5L,
        timestamp,
        timestamp < 0 ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME,
        8,
        10,
        new byte[8],
        new byte[10],
        new RecordHeaders(),
        Optional.empty());
  }

  static Long header(ConsumerRecord<Object, Object> r) {
    var h = r.headers().lastHeader(BoundedTimestampExtractor.ORIGINAL_TIMESTAMP_HEADER);
    return h == null ? null : ByteBuffer.wrap(h.value()).getLong();
  }

  @Test
  void aTimestampWithinTheBoundIsKeptAndNothingAdded() {
    for (long t : new long[] {0, NOW - 7 * 24 * 60 * MINUTE, NOW, NOW + 10 * MINUTE}) {
      var r = record(t);
      assertThat(tenMinutes.extract(r, NOW - MINUTE)).isEqualTo(t);
      assertThat(r.headers().toArray()).isEmpty();
    }
  }

  @Test
  void aNegativeTimestampIsThePartitionsTimeOrTheClockBeforeThereIsOne() {
    var r = record(-1);
    assertThat(tenMinutes.extract(r, NOW - 3 * MINUTE)).isEqualTo(NOW - 3 * MINUTE);
    assertThat(header(r)).isEqualTo(-1L);
    var first = record(-1);
    assertThat(tenMinutes.extract(first, -1)).isEqualTo(NOW);
    assertThat(header(first)).isEqualTo(-1L);
    // before 1970
    var old = record(-86_400_000L);
    assertThat(tenMinutes.extract(old, 5)).isEqualTo(5);
    assertThat(header(old)).isEqualTo(-86_400_000L);
  }

  @Test
  void aTimestampFurtherAheadThanTheBoundIsTheClockPlusTheBound() {
    var r = record(NOW + 2 * 60 * MINUTE);
    assertThat(tenMinutes.extract(r, NOW)).isEqualTo(NOW + 10 * MINUTE);
    assertThat(header(r)).isEqualTo(NOW + 2 * 60 * MINUTE);
    var atZero = record(NOW + 1);
    assertThat(new BoundedTimestampExtractor(() -> NOW, Duration.ZERO).extract(atZero, NOW))
        .isEqualTo(NOW);
    assertThat(header(atZero)).isEqualTo(NOW + 1);
  }

  @Test
  void withoutABoundOnlyNegativeTimestampsAreReplaced() {
    var unbounded = new BoundedTimestampExtractor();
    var far = record(Long.MAX_VALUE - 1);
    assertThat(unbounded.extract(far, -1)).isEqualTo(Long.MAX_VALUE - 1);
    assertThat(far.headers().toArray()).isEmpty();
    var none = record(-1);
    assertThat(unbounded.extract(none, 42)).isEqualTo(42);
    assertThat(header(none)).isEqualTo(-1L);
  }

  /** A producer's header of the same name would otherwise pass for the record's own timestamp. */
  @Test
  void aHeaderOfTheSameNameTheRecordCameWithIsRemoved() {
    var r = record(NOW);
    r.headers().add(BoundedTimestampExtractor.ORIGINAL_TIMESTAMP_HEADER, new byte[8]);
    assertThat(tenMinutes.extract(r, -1)).isEqualTo(NOW);
    assertThat(r.headers().toArray()).isEmpty();
    assertThat(BoundedTimestampExtractor.original(r.headers(), NOW)).isEqualTo(NOW);
  }
}
