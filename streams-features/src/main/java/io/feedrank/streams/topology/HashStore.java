package io.feedrank.streams.topology;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.BatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * An in-memory key-value store on a concurrent hash map, for a global table read on every event.
 * Kafka Streams' in-memory store is a synchronized {@code TreeMap} (ordered for range queries): a
 * lookup among the 50,000 items of the benchmark walked ~16 levels of byte-array comparisons, 9% of
 * the stream threads' time (JFR). Range reads, which nothing here does on the hot path, sort a
 * snapshot.
 *
 * <p>The map is keyed by {@link Key}, not by {@link Bytes}: Bytes hashes as {@code
 * Arrays.hashCode}, which gives the 8-byte big-endian ids 0-49,999 only 6,495 distinct hashes, ~8
 * keys each; every lookup then walked a collision chain or a tree bin of byte-array comparisons.
 */
final class HashStore implements KeyValueStore<Bytes, byte[]> {
  private final String name;
  private final Map<Key, byte[]> map = new ConcurrentHashMap<>();
  private volatile boolean open;

  private HashStore(String name) {
    this.name = name;
  }

  static KeyValueBytesStoreSupplier supplier(String name) {
    return new KeyValueBytesStoreSupplier() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public KeyValueStore<Bytes, byte[]> get() {
        return new HashStore(name);
      }

      @Override
      public String metricsScope() {
        return "in-memory-hash";
      }
    };
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    context.register(
        root,
        (BatchingStateRestoreCallback)
            records -> records.forEach(r -> put(Bytes.wrap(r.key), r.value)));
    open = true;
  }

  @Override
  public byte[] get(Bytes key) {
    return map.get(Key.of(key));
  }

  @Override
  public void put(Bytes key, byte[] value) {
    if (value == null) {
      map.remove(Key.of(key));
    } else {
      map.put(Key.of(key), value);
    }
  }

  @Override
  public byte[] putIfAbsent(Bytes key, byte[] value) {
    return value == null ? get(key) : map.putIfAbsent(Key.of(key), value);
  }

  @Override
  public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
    entries.forEach(e -> put(e.key, e.value));
  }

  @Override
  public byte[] delete(Bytes key) {
    return map.remove(Key.of(key));
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
    return sorted(from, to, false);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
    return sorted(from, to, true);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> all() {
    return sorted(null, null, false);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseAll() {
    return sorted(null, null, true);
  }

  private KeyValueIterator<Bytes, byte[]> sorted(Bytes from, Bytes to, boolean reverse) {
    TreeMap<Bytes, byte[]> snapshot = new TreeMap<>();
    map.forEach(
        (key, v) -> {
          Bytes k = key.bytes();
          if ((from == null || k.compareTo(from) >= 0) && (to == null || k.compareTo(to) <= 0)) {
            snapshot.put(k, v);
          }
        });
    List<KeyValue<Bytes, byte[]>> list = new ArrayList<>(snapshot.size());
    (reverse ? snapshot.descendingMap() : snapshot)
        .forEach((k, v) -> list.add(KeyValue.pair(k, v)));
    return new KeyValueIterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < list.size();
      }

      @Override
      public KeyValue<Bytes, byte[]> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return list.get(next++);
      }

      @Override
      public Bytes peekNextKey() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return list.get(next).key;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public long approximateNumEntries() {
    return map.size();
  }

  @Override
  public void close() {
    map.clear();
    open = false;
  }

  @Override
  public boolean persistent() {
    return false;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound bound, QueryConfig config) {
    return QueryResult.forUnknownQueryType(query, this);
  }

  @Override
  public Position getPosition() {
    return Position.emptyPosition();
  }

  /**
   * A key and a hash of all its bytes that spreads consecutive ids: FNV-1a over 64 bits, then
   * Murmur3's finalizer, folded to 32 bits. Equal when the bytes are.
   */
  record Key(Bytes bytes, int hash) {
    static Key of(Bytes bytes) {
      return new Key(bytes, spread(bytes.get()));
    }

    static int spread(byte[] b) {
      long h = 0xcbf29ce484222325L;
      for (byte x : b) {
        h = (h ^ (x & 0xff)) * 0x100000001b3L;
      }
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      h ^= h >>> 33;
      return (int) (h ^ (h >>> 32));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && hash == k.hash && bytes.equals(k.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
