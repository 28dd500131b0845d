package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

class HashStoreTest {
  static Bytes key(int i) {
    return Bytes.wrap(new byte[] {0, (byte) i});
  }

  static List<Integer> keys(KeyValueIterator<Bytes, byte[]> it) {
    List<Integer> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(kv -> out.add((int) kv.key.get()[1]));
    }
    return out;
  }

  @Test
  void getsWhatWasPutAndRangesInKeyOrder() {
    KeyValueStore<Bytes, byte[]> s = HashStore.supplier("items").get();
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    s.init(context.getStateStoreContext(), s);
    for (int i : new int[] {5, 1, 9, 3, 7}) {
      s.put(key(i), new byte[] {(byte) (i * 2)});
    }
    assertThat(s.get(key(9))).containsExactly(18);
    assertThat(s.get(Bytes.wrap(new byte[] {0, 9}))).as("equal, not the same key").isNotNull();
    assertThat(s.get(key(2))).isNull();
    s.put(key(5), null);
    assertThat(s.delete(key(7))).containsExactly(14);
    assertThat(s.putIfAbsent(key(1), new byte[] {0})).containsExactly(2);
    assertThat(s.approximateNumEntries()).isEqualTo(3);
    assertThat(keys(s.all())).containsExactly(1, 3, 9);
    assertThat(keys(s.reverseAll())).containsExactly(9, 3, 1);
    assertThat(keys(s.range(key(2), key(9)))).containsExactly(3, 9);
    assertThat(keys(s.reverseRange(key(1), key(3)))).containsExactly(3, 1);
    KeyValueIterator<Bytes, byte[]> it = s.range(key(3), key(3));
    assertThat(it.peekNextKey()).isEqualTo(key(3));
    assertThat(it.next().key).isEqualTo(key(3));
    assertThat(it.hasNext()).isFalse();
    assertThatThrownBy(it::peekNextKey).isInstanceOf(NoSuchElementException.class);
    s.close();
    assertThat(s.isOpen()).isFalse();
  }

  /**
   * Item ids as the items table keys them (8-byte big-endian longs): Bytes' own hash gives 50,000
   * consecutive ids a few thousand distinct values; the store's spreads them, and every id still
   * finds its own value.
   */
  @Test
  void consecutiveIdsGetDistinctHashesAndTheirOwnValues() {
    KeyValueStore<Bytes, byte[]> s = HashStore.supplier("items").get();
    s.init(new MockProcessorContext<>().getStateStoreContext(), s);
    java.util.Set<Integer> bytesHashes = new java.util.HashSet<>();
    java.util.Set<Integer> spread = new java.util.HashSet<>();
    int n = 50_000;
    for (long id = 0; id < n; id++) {
      Bytes k = Bytes.wrap(java.nio.ByteBuffer.allocate(8).putLong(id).array());
      bytesHashes.add(java.util.Arrays.hashCode(k.get()));
      spread.add(HashStore.Key.of(k).hashCode());
      s.put(k, java.nio.ByteBuffer.allocate(8).putLong(id * 7).array());
    }
    assertThat(bytesHashes.size()).isLessThan(n / 5);
    // 50,000 random 32-bit hashes collide ~0.3 times on average
    assertThat(spread.size()).isGreaterThanOrEqualTo(n - 5);
    for (long id = 0; id < n; id++) {
      byte[] v = s.get(Bytes.wrap(java.nio.ByteBuffer.allocate(8).putLong(id).array()));
      assertThat(java.nio.ByteBuffer.wrap(v).getLong()).isEqualTo(id * 7);
    }
    assertThat(HashStore.Key.of(key(3))).isEqualTo(HashStore.Key.of(Bytes.wrap(new byte[] {0, 3})));
    assertThat(HashStore.Key.of(key(3))).isNotEqualTo(HashStore.Key.of(key(4)));
  }
}
