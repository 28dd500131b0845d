package io.feedrank.streams.topology;

import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureSink;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entities of one task whose latest state is not yet known to be in Redis, kept in a
 * changelogged state store so the set is part of every Kafka transaction: an entity is in the set
 * in the same commit as its state change and forgotten only after its write has landed. After a
 * crash, the restored set names exactly the entities to write again — Redis can never miss a
 * committed state change. Each entry holds the earliest and latest event time not yet written, a
 * version that every change bumps, and the entity's event count as of its last landed write (the
 * base its partial writes check the hash against: {@link FeatureWrite#baseEvents}); an entry is
 * forgotten only when the write that landed carried its current version.
 *
 * <p>The store is never read on the per-event path, and written there only when an entity becomes
 * pending or an out-of-order event moves its earliest time back ({@link #mark}): an in-memory
 * mirror of it (loaded from the restored store when the task starts) answers every lookup and also
 * keeps the entity's latest state object until the next flush, which renders it without reading and
 * deserializing it again. Used from the stream thread only; landings arrive through a queue.
 *
 * @param <S> the entity's state, as last put into its own store (the next event may change that
 *     same object in place, and marks it again)
 */
final class DirtyEntities<S> {
  private static final Logger log = LoggerFactory.getLogger(DirtyEntities.class);
  static final int MAX_BATCH = 1_000;

  /** Renders an entity's fields that events in [earliest, latest] can have changed. */
  interface Renderer<S> {
    /**
     * @param baseEvents the entity's event count as of its last landed write, the count the hash
     *     holds before the events in [earliest, latest]; {@link FeatureWriter#NO_BASE} when not
     *     known (an entry restored from a store written before the count was kept)
     * @param state the entity's latest state, or null when it was restored rather than marked here
     *     (the renderer reads it from the entity's store then)
     */
    FeatureWrite render(
        long id, long earliestEventMillis, long latestEventMillis, long baseEvents, S state);
  }

  /**
   * Four longs: the earliest event time not yet written; the latest event time and the version as
   * of the entry's last store write; the base event count. Reads the three of a store written
   * before the base was kept (restored from its changelog after an upgrade) with {@link
   * FeatureWriter#NO_BASE}.
   */
  static Serde<long[]> rangeSerde() {
    return Serdes.serdeFrom(
        (t, r) ->
            r == null
                ? null
                : ByteBuffer.allocate(32)
                    .putLong(r[0])
                    .putLong(r[1])
                    .putLong(r[2])
                    .putLong(r[3])
                    .array(),
        (t, b) -> {
          if (b == null) {
            return null;
          }
          ByteBuffer buf = ByteBuffer.wrap(b);
          return new long[] {
            buf.getLong(),
            buf.getLong(),
            buf.getLong(),
            buf.remaining() >= 8 ? buf.getLong() : FeatureWriter.NO_BASE
          };
        });
  }

  private record Landed(long id, long version) {}

  private static final class Entry<S> {
    long earliest;
    long latest;
    long version;
    final long base;
    S state;

    Entry(long earliest, long latest, long version, long base, S state) {
      this.earliest = earliest;
      this.latest = latest;
      this.version = version;
      this.base = base;
      this.state = state;
    }

    long[] stored() {
      return new long[] {earliest, latest, version, base};
    }
  }

  private final KeyValueStore<Long, long[]> pending;
  private final FeatureSink sink;
  private final FeatureMetrics metrics;
  private final String keyPrefix;
  private final ConcurrentLinkedQueue<Landed> landed = new ConcurrentLinkedQueue<>();

  /** Entities whose partial write was refused: Redis lost their hash's state. */
  private final ConcurrentLinkedQueue<Long> lost = new ConcurrentLinkedQueue<>();

  /** The pending store's content (and the latest state of what was marked here). */
  private final Map<Long, Entry<S>> entries = new HashMap<>();

  /** Submitted and not yet landed: id → version submitted. */
  private final Map<Long, Long> inFlight = new HashMap<>();

  private long failuresLogged;

  /** Call from the processor's {@code init}: the pending store is restored by then. */
  DirtyEntities(
      KeyValueStore<Long, long[]> pending,
      FeatureSink sink,
      FeatureMetrics metrics,
      String keyPrefix) {
    this.pending = pending;
    this.sink = sink;
    this.metrics = metrics;
    this.keyPrefix = keyPrefix;
    try (KeyValueIterator<Long, long[]> it = pending.all()) {
      while (it.hasNext()) {
        KeyValue<Long, long[]> e = it.next();
        entries.put(e.key, new Entry<>(e.value[0], e.value[1], e.value[2], e.value[3], null));
      }
    }
  }

  /**
   * An event at {@code eventMillis} changed the entity; {@code state} is what was stored. The
   * pending store is written only when the entity becomes pending or its earliest unwritten event
   * time moves back: all a restored entry needs is that the entity is pending and since when (the
   * user hash's windows are rendered from it). Versions only match landings within this instance,
   * and the latest event time only feeds the freshness metric, so a restored entry's are those of
   * its last store write. (A store write per event was 5% of the stream threads' samples.)
   *
   * @param eventsBefore the entity's event count before this event: when it becomes pending now,
   *     all its earlier events have landed, so this is what its hash holds, the base of its writes
   *     until one lands ({@link FeatureWriter#NO_BASE} for an entity written whole every time)
   */
  void mark(long id, long eventMillis, long eventsBefore, S state) {
    Entry<S> e = entries.get(id);
    if (e == null) {
      e = new Entry<>(eventMillis, eventMillis, 1, eventsBefore, state);
      entries.put(id, e);
      pending.put(id, e.stored());
      return;
    }
    e.latest = Math.max(e.latest, eventMillis);
    e.version++;
    e.state = state;
    if (eventMillis < e.earliest) {
      e.earliest = eventMillis;
      pending.put(id, e.stored());
    }
  }

  /**
   * The entities whose partial write was refused since the last call, their hash without state
   * (Redis lost it; {@link FeatureWriter#writeFindingLost}): the caller owns the ones it still has
   * state for, and has them written whole ({@link #markWhole}). A refused write has not landed: the
   * entity stays pending, so where a stop or a crash loses this list, the next owner's partial
   * write is refused again.
   */
  List<Long> drainLost() {
    if (lost.isEmpty()) {
      return List.of();
    }
    List<Long> out = new ArrayList<>();
    for (Long id; (id = lost.poll()) != null; ) {
      out.add(id);
    }
    return out;
  }

  /**
   * Has the entity written whole at the next flush: pending from the beginning of time, in the same
   * changelogged store, so a crash before that write still makes it.
   */
  void markWhole(long id) {
    Entry<S> e = entries.get(id);
    if (e == null) {
      // a whole write needs no base
      e = new Entry<>(Long.MIN_VALUE, FeatureWriter.NO_EVENT, 1, FeatureWriter.NO_BASE, null);
      entries.put(id, e);
    } else {
      e.earliest = Long.MIN_VALUE;
      e.version++;
    }
    pending.put(id, e.stored());
  }

  /**
   * Forgets what landed, then submits every entity changed since its last submission, as far as the
   * sink has room ({@link FeatureSink#hasRoom}): the rest, and a batch the sink refuses, stay
   * pending for the next flush. Waiting for room instead, the stream thread held its transaction
   * open for each batch of a backlog and each of its tasks in turn, up to the writer's whole
   * backlog after an outage, past the transaction's 10 s; and a batch is not rendered only to be
   * refused.
   */
  void flush(Renderer<S> render) {
    for (Landed l; (l = landed.poll()) != null; ) {
      Long sent = inFlight.get(l.id());
      if (sent != null && sent == l.version()) {
        inFlight.remove(l.id());
      }
      Entry<S> e = entries.get(l.id());
      if (e != null && e.version == l.version()) {
        entries.remove(l.id()); // no change since the write that landed
        pending.delete(l.id());
      }
    }
    List<FeatureWrite> batch = new ArrayList<>();
    Map<String, Long> versions = new HashMap<>();
    boolean room = true;
    for (Map.Entry<Long, Entry<S>> me : entries.entrySet()) {
      Entry<S> e = me.getValue();
      Long sent = inFlight.get(me.getKey());
      if (sent != null && sent == e.version) {
        continue; // this state is already on its way
      }
      if (!room || (batch.isEmpty() && !sink.hasRoom())) {
        // left for a later flush, which reads the state from its store: held here, the objects
        // of every entity changed during a Redis outage stayed on the heap for as long as it lasted
        room = false;
        e.state = null;
        continue;
      }
      FeatureWrite w = render.render(me.getKey(), e.earliest, e.latest, e.base, e.state);
      // rendered: a retry (Redis away, the writer's queue full) reads the state from its store,
      // so only entities changed since the last flush hold a state object here
      e.state = null;
      batch.add(w);
      versions.put(w.key(), e.version);
      if (batch.size() == MAX_BATCH) {
        room = submit(batch, versions);
        batch = new ArrayList<>();
        versions = new HashMap<>();
      }
    }
    if (!batch.isEmpty()) {
      submit(batch, versions);
    }
  }

  /** Whether the sink took the batch: a refused one stays pending, as it was. */
  private boolean submit(List<FeatureWrite> batch, Map<String, Long> versions) {
    try {
      sink.submit(
          batch,
          w -> landed.add(new Landed(idOf(w.key()), versions.get(w.key()))),
          w -> lost.add(idOf(w.key())));
      versions.forEach((key, v) -> inFlight.put(idOf(key), v));
      return true;
    } catch (RuntimeException e) {
      metrics.redisFailure();
      if (failuresLogged++ % 100 == 0) {
        log.warn(
            "features: Redis write of {} entities refused, kept for retry: {}",
            batch.size(),
            e.toString());
      }
      return false;
    }
  }

  private long idOf(String key) {
    return Long.parseLong(key.substring(keyPrefix.length()));
  }
}
