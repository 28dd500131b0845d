package io.feedrank.streams.topology;

import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entities of one task changed since their last write, with the earliest and latest event time that
 * changed each. {@link #flush} hands their current state to the writer in batches; a batch the
 * writer refuses stays dirty and goes again at the next flush, so Redis being away loses nothing.
 */
final class DirtyEntities {
  private static final Logger log = LoggerFactory.getLogger(DirtyEntities.class);
  static final int MAX_BATCH = 1_000;

  /** Renders an entity's fields that events in [earliest, ...] can have changed. */
  interface Renderer {
    FeatureWrite render(long id, long earliestEventMillis, long latestEventMillis);
  }

  private final LinkedHashMap<Long, long[]> eventTimes = new LinkedHashMap<>();
  private final FeatureWriter writer;
  private final FeatureMetrics metrics;
  private long failuresLogged;

  DirtyEntities(FeatureWriter writer, FeatureMetrics metrics) {
    this.writer = writer;
    this.metrics = metrics;
  }

  void mark(long id, long eventMillis) {
    long[] range = eventTimes.get(id);
    if (range == null) {
      eventTimes.put(id, new long[] {eventMillis, eventMillis});
    } else {
      range[0] = Math.min(range[0], eventMillis);
      range[1] = Math.max(range[1], eventMillis);
    }
  }

  int size() {
    return eventTimes.size();
  }

  void flush(Renderer render) {
    while (!eventTimes.isEmpty()) {
      List<FeatureWrite> batch = new ArrayList<>(Math.min(MAX_BATCH, eventTimes.size()));
      List<Long> ids = new ArrayList<>();
      Iterator<Map.Entry<Long, long[]>> it = eventTimes.entrySet().iterator();
      while (it.hasNext() && batch.size() < MAX_BATCH) {
        Map.Entry<Long, long[]> e = it.next();
        batch.add(render.render(e.getKey(), e.getValue()[0], e.getValue()[1]));
        ids.add(e.getKey());
      }
      try {
        writer.write(batch);
      } catch (RuntimeException e) {
        metrics.redisFailure();
        if (failuresLogged++ % 100 == 0) {
          log.warn(
              "features: Redis write of {} entities failed, kept for retry ({} dirty): {}",
              batch.size(),
              eventTimes.size(),
              e.toString());
        }
        return;
      }
      ids.forEach(eventTimes::remove);
    }
  }
}
