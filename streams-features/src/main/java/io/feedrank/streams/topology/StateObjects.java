package io.feedrank.streams.topology;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The recently used entities' state objects of one task, deserialized, in front of their state
 * store. The store (behind Kafka Streams' record cache) holds bytes, so reading an entity's state
 * back on every event cost a record-cache lookup and a deserialization: 10% of the stream threads'
 * samples for the user and item states together.
 *
 * <p>Write-through: every object held here is the value last put into the store for its key, so a
 * hit returns what the store would have returned, and a miss reads the store. A caller that changes
 * an object it got and then fails before putting it back calls {@link #forget}. Owned by one
 * processor instance of one task and used from its stream thread only. A task closed dirty (a crash
 * of its transaction, a lost partition) and revived runs its processors' {@code init} again, after
 * its stores were restored from their changelogs, and {@code init} starts a new instance.
 *
 * @param <S> the entity's state
 */
final class StateObjects<S> {
  private final KeyValueStore<Long, S> store;
  private final int capacity;
  private final Map<Long, S> recent;

  /**
   * @param capacity how many entities to hold, least recently used dropped first; 0 = none
   */
  StateObjects(KeyValueStore<Long, S> store, int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.store = store;
    this.capacity = capacity;
    this.recent =
        new LinkedHashMap<>(Math.min(capacity, 1 << 16) * 4 / 3 + 1, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, S> eldest) {
            return size() > StateObjects.this.capacity;
          }
        };
  }

  /** The entity's state as last put, or null when it has none. */
  S get(long id) {
    S s = recent.get(id);
    if (s == null) {
      s = store.get(id);
      if (s != null && capacity > 0) {
        recent.put(id, s);
      }
    }
    return s;
  }

  void put(long id, S state) {
    store.put(id, state);
    if (capacity > 0) {
      recent.put(id, state);
    }
  }

  /** Drops the held object (changed and not put back): the next get reads the store. */
  void forget(long id) {
    recent.remove(id);
  }

  int size() {
    return recent.size();
  }
}
