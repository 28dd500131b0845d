package io.feedrank.ranker;

import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.events.SampledFeatureVector;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.scoring.Batch;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ranking-log entry of a request: taken on the request thread with only what must be copied
 * there (the sampled input vectors, since the batch buffers are reused), turned into the Avro
 * record on the logger thread.
 */
public final class RankingLogs {

  /** A queued log entry. */
  public record Entry(
      RankRequest request, RankResult result, long[] sampledIds, float[][] sampled) {}

  static Entry entry(RankRequest req, RankResult result, Batch batch, double sampleRate) {
    List<Integer> picked = new ArrayList<>();
    if (sampleRate > 0) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      for (int i = 0; i < batch.rows(); i++) {
        if (sampleRate >= 1 || r.nextDouble() < sampleRate) {
          picked.add(i);
        }
      }
    }
    long[] ids = new long[picked.size()];
    float[][] vectors = new float[picked.size()][];
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    for (int k = 0; k < ids.length; k++) {
      int i = picked.get(k);
      ids[k] = batch.itemIds()[i];
      batch.rowVectors(i, item, cross); // one pass over the item's features, not one per group
      vectors[k] =
          concat(batch.features().userVector(), item, cross, batch.features().contextVector());
    }
    return new Entry(req, result, ids, vectors);
  }

  private static float[] concat(float[]... parts) {
    int n = 0;
    for (float[] p : parts) {
      n += p.length;
    }
    float[] out = new float[n];
    int off = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
  }

  static RankingLog toRecord(Entry e) {
    RankResult r = e.result();
    List<RankedItem> items = new ArrayList<>(r.itemIds().length);
    for (int k = 0; k < r.itemIds().length; k++) {
      items.add(new RankedItem(r.itemIds()[k], r.scores()[k], k + 1));
    }
    List<SampledFeatureVector> sampled = new ArrayList<>(e.sampledIds().length);
    for (int k = 0; k < e.sampledIds().length; k++) {
      List<Float> values = new ArrayList<>(e.sampled()[k].length);
      for (float v : e.sampled()[k]) {
        values.add(v);
      }
      sampled.add(new SampledFeatureVector(e.sampledIds()[k], values));
    }
    return RankingLog.newBuilder()
        .setRequestId(r.requestId())
        .setTimestamp(Instant.ofEpochMilli(e.request().atMillis()))
        .setUserId(r.userId())
        .setDevice(e.request().device())
        .setModelName(r.modelName())
        .setModelVersion(r.modelVersion())
        .setVariant(r.variant())
        .setItems(items)
        .setLatencyMs(r.latencyMs())
        .setFallback(r.fallback())
        .setFallbackReason(r.fallbackReason())
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .setSampledFeatures(sampled)
        .build();
  }

  private RankingLogs() {}
}
