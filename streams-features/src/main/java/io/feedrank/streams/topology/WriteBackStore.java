package io.feedrank.streams.topology;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * Live value objects in front of a Kafka Streams key-value store (metered, cached, changelogged): a
 * put is held as the object and written to that store once per commit, when Kafka Streams flushes
 * its caches ahead of the changelog writes and the transaction; so an entity that n events change
 * between two commits is serialized and cached once, not n times. Serializing user states and
 * putting them, the item states and the validation stream time into the record cache on every event
 * was ~20% of the stream threads' time (JFR).
 *
 * <p>A get returns the object last put, or one read from the store and kept (the {@code capacity}
 * least recently used clean objects are kept). Callers change such an object in place and put it
 * back. No object held here outlives the task's time as an active task. A task closed dirty — a
 * crash, a fenced producer, an error in a processor after it changed an object — closes its stores,
 * which drops every object, and one that is revived is initialized again after its stores were
 * restored from their changelogs; so an uncommitted change is never written. A task that moves from
 * active to standby or back within one client keeps its stores instead: Kafka Streams recycles them
 * (ProcessorStateManager {@code recycle}, 4.3) with a {@link #clearCache} and no new {@code init},
 * while as a standby it restores the new owner's changes into the store behind this one; so {@link
 * #clearCache} drops every object too, or a get back as an active task would return the state as of
 * the move.
 *
 * <p>The commit hook is Kafka Streams' internal {@link CachedStateStore#flushCache}, called for the
 * stores of a task before its records are flushed and its transaction committed (StreamTask {@code
 * prepareCommit}, Kafka Streams 4.3): the public API has no hook before a commit. The topology and
 * crash tests fail if a later version calls it elsewhere.
 */
final class WriteBackStore<K, V> implements KeyValueStore<K, V>, CachedStateStore<K, V> {
  private static final Object DELETED = new Object();

  private final KeyValueStore<K, V> store;
  private final int capacity;

  /** Put or deleted since the last write-back: the value, or {@link #DELETED}. */
  private final Map<K, Object> dirty = new HashMap<>();

  private final Map<K, V> clean;

  WriteBackStore(KeyValueStore<K, V> store, int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.store = store;
    this.capacity = capacity;
    this.clean =
        new LinkedHashMap<>(Math.min(capacity, 1 << 16) * 4 / 3 + 1, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > WriteBackStore.this.capacity;
          }
        };
  }

  /**
   * Builds {@code inner}'s store with this in front.
   *
   * @param capacity clean objects kept per task, least recently used dropped first (0 = none)
   */
  static <K, V> StoreBuilder<KeyValueStore<K, V>> builder(
      StoreBuilder<KeyValueStore<K, V>> inner, int capacity) {
    return new Builder<>(inner, capacity);
  }

  @Override
  @SuppressWarnings("unchecked")
  public V get(K key) {
    Object held = dirty.get(key);
    if (held != null) {
      return held == DELETED ? null : (V) held;
    }
    V v = clean.get(key);
    if (v == null) {
      v = store.get(key);
      if (v != null && capacity > 0) {
        clean.put(key, v);
      }
    }
    return v;
  }

  @Override
  public void put(K key, V value) {
    if (value == null) {
      delete(key);
      return;
    }
    dirty.put(key, value);
    clean.remove(key);
  }

  @Override
  public V putIfAbsent(K key, V value) {
    V old = get(key);
    if (old == null) {
      put(key, value);
    }
    return old;
  }

  @Override
  public void putAll(List<KeyValue<K, V>> entries) {
    entries.forEach(e -> put(e.key, e.value));
  }

  @Override
  public V delete(K key) {
    V old = get(key);
    dirty.put(key, DELETED);
    clean.remove(key);
    return old;
  }

  /** Writes what was put or deleted since the last time to the store behind. */
  @SuppressWarnings("unchecked")
  private void writeBack() {
    if (dirty.isEmpty()) {
      return;
    }
    for (Map.Entry<K, Object> e : dirty.entrySet()) {
      if (e.getValue() == DELETED) {
        store.delete(e.getKey());
      } else {
        store.put(e.getKey(), (V) e.getValue());
        if (capacity > 0) {
          clean.put(e.getKey(), (V) e.getValue());
        }
      }
    }
    dirty.clear();
  }

  @Override
  public void flushCache() {
    writeBack();
    if (store instanceof CachedStateStore<?, ?> cached) {
      cached.flushCache();
    }
  }

  /**
   * Drops every object held: the task's stores are being recycled (see above). Nothing put is
   * unwritten by then: Kafka Streams recycles an active task only when it has processed nothing
   * since its last commit, whose {@link #flushCache} wrote everything back (StreamTask {@code
   * prepareRecycle}: else it closes the task dirty), and a standby task writes nothing through this
   * store. Were anything put since, it would be uncommitted, and is dropped as {@link #close} drops
   * it.
   */
  @Override
  public void clearCache() {
    dirty.clear();
    clean.clear();
    if (store instanceof CachedStateStore<?, ?> cached) {
      cached.clearCache();
    }
  }

  @Override
  public boolean setFlushListener(
      org.apache.kafka.streams.state.internals.CacheFlushListener<K, V> listener,
      boolean sendOldValues) {
    return false; // no downstream of this store reads its flushes
  }

  // ---- reads over ranges go to the store, with everything written back first ----

  @Override
  public KeyValueIterator<K, V> range(K from, K to) {
    writeBack();
    return store.range(from, to);
  }

  @Override
  public KeyValueIterator<K, V> reverseRange(K from, K to) {
    writeBack();
    return store.reverseRange(from, to);
  }

  @Override
  public KeyValueIterator<K, V> all() {
    writeBack();
    return store.all();
  }

  @Override
  public KeyValueIterator<K, V> reverseAll() {
    writeBack();
    return store.reverseAll();
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<K, V> prefixScan(
      P prefix, PS prefixKeySerializer) {
    writeBack();
    return store.prefixScan(prefix, prefixKeySerializer);
  }

  @Override
  public long approximateNumEntries() {
    return store.approximateNumEntries() + dirty.size();
  }

  // ---- life cycle: the store behind registers this one (the root) with the task ----

  @Override
  public String name() {
    return store.name();
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    dirty.clear();
    clean.clear();
    store.init(context, root);
  }

  @Override
  @SuppressWarnings("deprecation")
  public void flush() {
    writeBack();
    store.flush();
  }

  @Override
  public void commit(Map<TopicPartition, Long> changelogOffsets) {
    writeBack(); // normally empty: flushCache came first
    store.commit(changelogOffsets);
  }

  @Override
  public Long committedOffset(TopicPartition partition) {
    return store.committedOffset(partition);
  }

  @Override
  public boolean managesOffsets() {
    return store.managesOffsets();
  }

  @Override
  public void close() {
    dirty.clear(); // uncommitted unless flushCache ran: a clean close commits first
    clean.clear();
    store.close();
  }

  @Override
  public boolean persistent() {
    return store.persistent();
  }

  @Override
  public boolean isOpen() {
    return store.isOpen();
  }

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound bound, QueryConfig config) {
    return store.query(query, bound, config);
  }

  @Override
  public Position getPosition() {
    return store.getPosition();
  }

  private record Builder<K, V>(StoreBuilder<KeyValueStore<K, V>> inner, int capacity)
      implements StoreBuilder<KeyValueStore<K, V>> {
    @Override
    public StoreBuilder<KeyValueStore<K, V>> withCachingEnabled() {
      inner.withCachingEnabled();
      return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withCachingDisabled() {
      inner.withCachingDisabled();
      return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withLoggingEnabled(Map<String, String> config) {
      inner.withLoggingEnabled(config);
      return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withLoggingDisabled() {
      inner.withLoggingDisabled();
      return this;
    }

    @Override
    public KeyValueStore<K, V> build() {
      return new WriteBackStore<>(inner.build(), capacity);
    }

    @Override
    public Map<String, String> logConfig() {
      return inner.logConfig();
    }

    @Override
    public boolean loggingEnabled() {
      return inner.loggingEnabled();
    }

    @Override
    public String name() {
      return inner.name();
    }
  }
}
