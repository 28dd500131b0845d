package io.feedrank.streams.topology;

import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entities of one task changed since their last Redis write, with the latest event time that
 * changed each. {@link #flush} writes their current state in batches; a failed batch stays dirty
 * and is written again at the next flush, so Redis being away loses nothing.
 */
final class DirtyEntities {
  private static final Logger log = LoggerFactory.getLogger(DirtyEntities.class);
  static final int MAX_BATCH = 1_000;

  private final LinkedHashMap<Long, Long> latestEventTime = new LinkedHashMap<>();
  private final FeatureWriter writer;
  private final FeatureMetrics metrics;
  private long failuresLogged;

  DirtyEntities(FeatureWriter writer, FeatureMetrics metrics) {
    this.writer = writer;
    this.metrics = metrics;
  }

  void mark(long id, long eventMillis) {
    latestEventTime.merge(id, eventMillis, Math::max);
  }

  int size() {
    return latestEventTime.size();
  }

  /**
   * Writes every dirty entity as rendered now.
   *
   * @param render the entity's current hash by id
   * @param nowMillis wall-clock time, for freshness
   */
  void flush(LongFunction<FeatureWrite> render, long nowMillis) {
    while (!latestEventTime.isEmpty()) {
      List<FeatureWrite> batch = new ArrayList<>(Math.min(MAX_BATCH, latestEventTime.size()));
      List<Map.Entry<Long, Long>> entries = new ArrayList<>();
      Iterator<Map.Entry<Long, Long>> it = latestEventTime.entrySet().iterator();
      while (it.hasNext() && batch.size() < MAX_BATCH) {
        Map.Entry<Long, Long> e = it.next();
        batch.add(render.apply(e.getKey()));
        entries.add(Map.entry(e.getKey(), e.getValue()));
      }
      try {
        writer.write(batch);
      } catch (RuntimeException e) {
        metrics.redisFailure();
        if (failuresLogged++ % 100 == 0) {
          log.warn(
              "features: Redis write of {} entities failed, kept for retry ({} dirty): {}",
              batch.size(),
              latestEventTime.size(),
              e.toString());
        }
        return;
      }
      for (Map.Entry<Long, Long> e : entries) {
        latestEventTime.remove(e.getKey());
        metrics.freshness(nowMillis - e.getValue());
      }
    }
  }
}
