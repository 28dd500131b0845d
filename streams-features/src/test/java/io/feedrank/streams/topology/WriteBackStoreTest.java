package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteBackStoreTest {
  KeyValueStore<Long, StringBuilder> inner;
  KeyValueStore<Long, StringBuilder> store;
  @TempDir Path dir;
  MockProcessorContext<Object, Object> context;

  /** A mutable value, as the entity states are; stored as its text, in RocksDB (survives close). */
  static KeyValueStore<Long, StringBuilder> innerStore() {
    return Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore("s"),
            Serdes.Long(),
            Serdes.serdeFrom(
                (t, v) -> v == null ? null : v.toString().getBytes(),
                (t, b) -> b == null ? null : new StringBuilder(new String(b))))
        .withLoggingDisabled()
        .withCachingDisabled()
        .build();
  }

  @BeforeEach
  void init() {
    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, "write-back-test");
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    context = new MockProcessorContext<>(config, new TaskId(0, 0), dir.toFile());
    inner = innerStore();
    store = new WriteBackStore<>(inner, 2);
    store.init(context.getStateStoreContext(), store);
  }

  static String text(StringBuilder s) {
    return s == null ? null : s.toString();
  }

  @AfterEach
  void close() {
    if (store.isOpen()) {
      store.close();
    }
  }

  @Test
  void putsAndDeletesReachTheStoreBehindOnlyAtTheCommitHook() {
    store.put(1L, new StringBuilder("a"));
    store.put(2L, new StringBuilder("b"));
    assertThat(inner.get(1L)).isNull();
    assertThat(text(store.get(1L))).isEqualTo("a");

    ((WriteBackStore<Long, StringBuilder>) store).flushCache();
    assertThat(text(inner.get(1L))).isEqualTo("a");
    assertThat(text(inner.get(2L))).isEqualTo("b");

    // changed in place and put back n times: one write, the last state
    StringBuilder one = store.get(1L);
    for (int i = 0; i < 5; i++) {
      one.append(i);
      store.put(1L, one);
    }
    assertThat(store.delete(2L)).hasToString("b");
    assertThat(store.get(2L)).isNull();
    assertThat(text(inner.get(1L))).isEqualTo("a");
    assertThat(text(inner.get(2L))).isEqualTo("b");

    ((WriteBackStore<Long, StringBuilder>) store).flushCache();
    assertThat(text(inner.get(1L))).isEqualTo("a01234");
    assertThat(inner.get(2L)).isNull();
  }

  @Test
  void aCloseWithoutTheCommitHookWritesNothingAndAReopenedStoreReadsTheStoreBehind() {
    store.put(1L, new StringBuilder("committed"));
    ((WriteBackStore<Long, StringBuilder>) store).flushCache();
    StringBuilder s = store.get(1L);
    s.append("-changed-in-place");
    store.put(1L, s);
    store.put(2L, new StringBuilder("uncommitted"));
    store.close();

    // a task revived after a dirty close: init again, over the same store behind
    WriteBackStore<Long, StringBuilder> revived = new WriteBackStore<>(inner, 2);
    revived.init(context.getStateStoreContext(), revived);
    store = revived;
    assertThat(text(revived.get(1L))).isEqualTo("committed");
    assertThat(revived.get(2L)).isNull();
  }

  /**
   * A task that moves active → standby → active within one JVM keeps its stores: Kafka Streams 4.3
   * recycles them (ProcessorStateManager#recycle) and calls only {@code clearCache} on them, never
   * {@code init} again, while standby restoration writes the new owner's changes to the store
   * behind, past this one.
   */
  @Test
  void aClearedCacheReadsWhatWasWrittenBehindItSince() {
    store.put(1L, new StringBuilder("a"));
    ((WriteBackStore<Long, StringBuilder>) store).flushCache(); // the commit before the recycle
    assertThat(text(store.get(1L))).isEqualTo("a");

    inner.put(1L, new StringBuilder("b")); // the standby restoring the other owner's change
    ((WriteBackStore<Long, StringBuilder>) store).clearCache(); // the recycle

    assertThat(text(store.get(1L))).isEqualTo("b");
  }

  @Test
  void cleanObjectsAreKeptUpToTheCapacityAndReadAgainAfter() {
    for (long k = 1; k <= 4; k++) {
      inner.put(k, new StringBuilder("v" + k));
    }
    StringBuilder first = store.get(1L);
    assertThat(store.get(1L)).isSameAs(first);
    store.get(2L);
    store.get(3L); // capacity 2: 1 is dropped
    assertThat(store.get(1L)).isNotSameAs(first).hasToString("v1");
  }

  @Test
  void rangeReadsSeeWhatWasPutAndDeleted() {
    inner.put(1L, new StringBuilder("old"));
    inner.put(3L, new StringBuilder("gone"));
    store.put(2L, new StringBuilder("new"));
    store.delete(3L);
    List<String> seen = new ArrayList<>();
    try (KeyValueIterator<Long, StringBuilder> it = store.all()) {
      it.forEachRemaining(kv -> seen.add(kv.key + "=" + kv.value));
    }
    assertThat(seen).containsExactly("1=old", "2=new");
    store.putAll(List.of(KeyValue.pair(4L, new StringBuilder("x"))));
    assertThat(store.putIfAbsent(4L, new StringBuilder("y"))).hasToString("x");
    assertThat(store.approximateNumEntries()).isGreaterThanOrEqualTo(3);
  }
}
