package io.feedrank.streams.topology;

import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureSink;
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
 * changelogged state store so the set is part of every Kafka transaction: an entity is marked in
 * the same commit as its state change and forgotten only after its write has landed. After a crash,
 * the restored set names exactly the entities to write again — Redis can never miss a committed
 * state change. Each entry holds the earliest and latest event time not yet written and a version
 * that every change bumps; an entry is forgotten only when the write that landed carried its
 * current version. Used from the stream thread only; landings arrive through a queue.
 */
final class DirtyEntities {
  private static final Logger log = LoggerFactory.getLogger(DirtyEntities.class);
  static final int MAX_BATCH = 1_000;

  /** Renders an entity's fields that events in [earliest, latest] can have changed. */
  interface Renderer {
    FeatureWrite render(long id, long earliestEventMillis, long latestEventMillis);
  }

  /** Three longs: earliest and latest event time not yet written, version. */
  static Serde<long[]> rangeSerde() {
    return Serdes.serdeFrom(
        (t, r) ->
            r == null
                ? null
                : ByteBuffer.allocate(24).putLong(r[0]).putLong(r[1]).putLong(r[2]).array(),
        (t, b) -> {
          if (b == null) {
            return null;
          }
          ByteBuffer buf = ByteBuffer.wrap(b);
          return new long[] {buf.getLong(), buf.getLong(), buf.getLong()};
        });
  }

  private record Landed(long id, long version) {}

  private final KeyValueStore<Long, long[]> pending;
  private final FeatureSink sink;
  private final FeatureMetrics metrics;
  private final String keyPrefix;
  private final ConcurrentLinkedQueue<Landed> landed = new ConcurrentLinkedQueue<>();

  /** Submitted and not yet landed: id → version submitted. */
  private final Map<Long, Long> inFlight = new HashMap<>();

  private long failuresLogged;

  DirtyEntities(
      KeyValueStore<Long, long[]> pending,
      FeatureSink sink,
      FeatureMetrics metrics,
      String keyPrefix) {
    this.pending = pending;
    this.sink = sink;
    this.metrics = metrics;
    this.keyPrefix = keyPrefix;
  }

  void mark(long id, long eventMillis) {
    long[] range = pending.get(id);
    if (range == null) {
      pending.put(id, new long[] {eventMillis, eventMillis, 1});
    } else {
      pending.put(
          id,
          new long[] {
            Math.min(range[0], eventMillis), Math.max(range[1], eventMillis), range[2] + 1
          });
    }
  }

  /** Forgets what landed, then submits every entity changed since its last submission. */
  void flush(Renderer render) {
    for (Landed l; (l = landed.poll()) != null; ) {
      Long sent = inFlight.get(l.id());
      if (sent != null && sent == l.version()) {
        inFlight.remove(l.id());
      }
      long[] range = pending.get(l.id());
      if (range != null && range[2] == l.version()) {
        pending.delete(l.id()); // no change since the write that landed
      }
    }
    List<FeatureWrite> batch = new ArrayList<>();
    Map<String, Long> versions = new HashMap<>();
    try (KeyValueIterator<Long, long[]> it = pending.all()) {
      while (it.hasNext()) {
        KeyValue<Long, long[]> e = it.next();
        Long sent = inFlight.get(e.key);
        if (sent != null && sent == e.value[2]) {
          continue; // this state is already on its way
        }
        FeatureWrite w = render.render(e.key, e.value[0], e.value[1]);
        batch.add(w);
        versions.put(w.key(), e.value[2]);
        if (batch.size() == MAX_BATCH) {
          submit(batch, versions);
          batch = new ArrayList<>();
          versions = new HashMap<>();
        }
      }
    }
    if (!batch.isEmpty()) {
      submit(batch, versions);
    }
  }

  private void submit(List<FeatureWrite> batch, Map<String, Long> versions) {
    try {
      sink.submit(batch, w -> landed.add(new Landed(idOf(w.key()), versions.get(w.key()))));
      versions.forEach((key, v) -> inFlight.put(idOf(key), v));
    } catch (RuntimeException e) {
      metrics.redisFailure();
      if (failuresLogged++ % 100 == 0) {
        log.warn(
            "features: Redis write of {} entities refused, kept for retry: {}",
            batch.size(),
            e.toString());
      }
    }
  }

  private long idOf(String key) {
    return Long.parseLong(key.substring(keyPrefix.length()));
  }
}
