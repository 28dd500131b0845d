package io.feedrank.ranker;

import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.events.SampledFeatureVector;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.scoring.Batch;
import java.time.Instant;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.RandomAccess;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ranking-log entry of a request: taken on the request thread with only what must be copied
 * there (the sampled input vectors, since the batch buffers are reused), turned into the Avro
 * record on the logger thread.
 */
public final class RankingLogs {

  /**
   * A queued log entry.
   *
   * @param assignedVariant the arm the user was assigned to (production or staging), whatever
   *     served
   * @param leasedModelName the model the request was leased, or null when none was loaded
   * @param leasedModelVersion its version, or null
   */
  public record Entry(
      RankRequest request,
      RankResult result,
      String assignedVariant,
      String leasedModelName,
      String leasedModelVersion,
      long[] sampledIds,
      float[][] sampled) {

    /**
     * The entry, its request and result objects (136 bytes with compressed references) and their
     * small shared strings, with room to spare: what {@link #estimatedBytes} adds to the arrays.
     */
    static final long FIXED_BYTES = 256;

    /**
     * An estimate of the heap this entry holds, in bytes, from the lengths of its arrays (the
     * request's candidate ids, the result's ids and scores, the sampled ids and vectors, each with
     * a 16-byte header and rounded up to 8 bytes, references 4 bytes) and its request id: about 20
     * KB at 1,000 candidates all returned, none sampled. Reads no more than lengths, so the request
     * thread can afford it; the logger bounds its queue by it ({@code log.buffer.max.bytes}).
     */
    public long estimatedBytes() {
      long b =
          FIXED_BYTES
              + (request.requestId() == null ? 0 : 2L * request.requestId().length())
              + array(request.itemIds().length, 8)
              + array(result.itemIds().length, 8)
              + array(result.scores().length, 4)
              + array(sampledIds.length, 8)
              + array(sampled.length, 4);
      for (float[] v : sampled) {
        b += array(v.length, 4);
      }
      return b;
    }

    private static long array(int length, int elementBytes) {
      return (16 + (long) length * elementBytes + 7) & ~7L;
    }
  }

  static Entry entry(
      RankRequest req,
      RankResult result,
      String assignedVariant,
      String leasedModelName,
      String leasedModelVersion,
      Batch batch,
      double sampleRate) {
    int[] picked = pick(batch.rows(), sampleRate, ThreadLocalRandom.current());
    int n = picked.length;
    // the features of covered rows (a two-tower model's, held as vectors) in one lookup, not one
    // per row: a 1,000-candidate request samples about ten
    batch.resolve(picked, n);
    long[] ids = new long[n];
    float[][] vectors = new float[n][];
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    for (int k = 0; k < n; k++) {
      int i = picked[k];
      ids[k] = batch.itemIds()[i];
      batch.rowVectors(i, item, cross); // one pass over the item's features, not one per group
      vectors[k] =
          concat(batch.features().userVector(), item, cross, batch.features().contextVector());
    }
    return new Entry(
        req, result, assignedVariant, leasedModelName, leasedModelVersion, ids, vectors);
  }

  /**
   * Each of {@code rows} rows picked with probability {@code rate}, independently, in increasing
   * order. Draws one random number per picked row (the gaps between picks are geometric), not one
   * per row.
   */
  static int[] pick(int rows, double rate, Random r) {
    if (rate <= 0 || rows == 0) {
      return new int[0];
    }
    if (rate >= 1) {
      int[] all = new int[rows];
      for (int i = 0; i < rows; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] out = new int[Math.min(rows, 16)];
    int n = 0;
    double logKeep = Math.log1p(-rate);
    double i = -1;
    while (true) {
      // failures before the next success: floor(ln U / ln(1 - p)), U uniform on (0, 1]
      i += 1 + Math.floor(Math.log(1 - r.nextDouble()) / logKeep);
      if (i >= rows) {
        return Arrays.copyOf(out, n);
      }
      if (n == out.length) {
        out = Arrays.copyOf(out, Math.min(rows, 2 * out.length));
      }
      out[n++] = (int) i;
    }
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
      sampled.add(new SampledFeatureVector(e.sampledIds()[k], new FloatList(e.sampled()[k])));
    }
    return RankingLog.newBuilder()
        .setRequestId(r.requestId())
        .setTimestamp(Instant.ofEpochMilli(e.request().atMillis()))
        .setUserId(r.userId())
        .setDevice(e.request().device())
        .setModelName(r.modelName())
        .setModelVersion(r.modelVersion())
        .setVariant(r.variant())
        .setAssignedVariant(e.assignedVariant())
        .setLeasedModelName(e.leasedModelName())
        .setLeasedModelVersion(e.leasedModelVersion())
        .setItems(items)
        .setLatencyMs(r.latencyMs())
        .setFallback(r.fallback())
        .setFallbackReason(r.fallbackReason())
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .setSampledFeatures(sampled)
        .setSynthetic(e.request().synthetic())
        .build();
  }

  /**
   * A read-only {@code List<Float>} over a {@code float[]}, for the Avro record: the serializer
   * reads each element once, so they are not boxed into a list first (a thousand boxes a request).
   */
  private static final class FloatList extends AbstractList<Float> implements RandomAccess {
    private final float[] values;

    FloatList(float[] values) {
      this.values = values;
    }

    @Override
    public Float get(int i) {
      return values[i];
    }

    @Override
    public int size() {
      return values.length;
    }
  }

  private RankingLogs() {}
}
