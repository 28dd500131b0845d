package io.feedrank.ranker.scoring;

import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.features.Parsed;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * One request's candidates, vectorized into flat direct buffers that ONNX Runtime reads without a
 * copy. Buffers are reused per thread (a request thread builds and scores one batch at a time), so
 * a request allocates no tensors' worth of memory.
 *
 * <p>Rows are vectorized when first needed: all of them when a model reads the tensors ({@link
 * OnnxModel#run}), single rows for {@link #itemVector} / {@link #crossVector} before that, and a
 * {@link #subset} vectorizes only its own rows — a two-tower request with its item vectors cached
 * vectorizes no candidate at all.
 */
public final class Batch {
  private static final ThreadLocal<Batch> PER_THREAD = ThreadLocal.withInitial(Batch::new);
  private static final ThreadLocal<Batch> SUBSET = ThreadLocal.withInitial(Batch::new);
  private static final int MAX_ROWS = 1_000;

  final FloatBuffer user = floats(MAX_ROWS * Vectorizer.USER_WIDTH);
  final FloatBuffer item = floats(MAX_ROWS * Vectorizer.ITEM_WIDTH);
  final FloatBuffer cross = floats(MAX_ROWS * Vectorizer.CROSS_WIDTH);
  final FloatBuffer context = floats(MAX_ROWS * Vectorizer.CONTEXT_WIDTH);
  final LongBuffer userIds = longs(MAX_ROWS);
  final LongBuffer itemIds = longs(MAX_ROWS);
  private final float[] itemRow = new float[Vectorizer.ITEM_WIDTH];
  private final float[] crossRow = new float[Vectorizer.CROSS_WIDTH];

  ServingFeatures features;
  long[] ids;
  Parsed.Item[] itemFeatures;
  int rows;
  private boolean vectorized;

  private Batch() {}

  /**
   * This thread's batch for the candidates (valid until the thread's next call); vectorized lazily.
   *
   * @param items each candidate's parsed features ({@link Parsed.Item#UNKNOWN} for an unknown item)
   */
  public static Batch of(ServingFeatures f, long[] itemIds, Parsed.Item[] items) {
    if (itemIds.length > MAX_ROWS) {
      throw new IllegalArgumentException(
          "batch of " + itemIds.length + " rows; at most " + MAX_ROWS);
    }
    Batch b = PER_THREAD.get();
    b.features = f;
    b.ids = itemIds;
    b.itemFeatures = items;
    b.rows = itemIds.length;
    b.vectorized = false;
    return b;
  }

  /** Fills the tensors' buffers with every row (once per batch). */
  void vectorize() {
    if (vectorized) {
      return;
    }
    user.clear();
    item.clear();
    cross.clear();
    context.clear();
    for (int i = 0; i < rows; i++) {
      row(i, itemRow, crossRow);
      item.put(itemRow);
      cross.put(crossRow);
      user.put(features.userVector());
      context.put(features.contextVector());
    }
    user.flip();
    item.flip();
    cross.flip();
    context.flip();
    vectorized = true;
  }

  private void row(int i, float[] itemOut, float[] crossOut) {
    Parsed.Item x = itemFeatures[i];
    features.item(x.state(), x.metadata(), itemOut, 0, crossOut, 0);
  }

  /**
   * Rows {@code idx[0..m)} of this batch as this thread's subset batch (valid until the thread's
   * next subset), e.g. the candidates whose item-tower vectors are not cached yet; vectorized.
   */
  public Batch subset(int[] idx, int m) {
    Batch s = SUBSET.get();
    s.features = features;
    s.rows = m;
    s.ids = new long[m];
    s.itemFeatures = new Parsed.Item[m];
    for (int k = 0; k < m; k++) {
      s.ids[k] = ids[idx[k]];
      s.itemFeatures[k] = itemFeatures[idx[k]];
    }
    s.vectorized = false;
    s.vectorize();
    return s;
  }

  public int rows() {
    return rows;
  }

  public long[] itemIds() {
    return ids;
  }

  public ServingFeatures features() {
    return features;
  }

  public Parsed.Item item(int i) {
    return itemFeatures[i];
  }

  /** The item group of row {@code i}, written into {@code out}. */
  public float[] itemVector(int i, float[] out) {
    if (vectorized) {
      item.get(i * Vectorizer.ITEM_WIDTH, out, 0, Vectorizer.ITEM_WIDTH);
    } else {
      row(i, out, crossRow);
    }
    return out;
  }

  /** The cross group of row {@code i}, written into {@code out}. */
  public float[] crossVector(int i, float[] out) {
    if (vectorized) {
      cross.get(i * Vectorizer.CROSS_WIDTH, out, 0, Vectorizer.CROSS_WIDTH);
    } else {
      row(i, itemRow, out);
    }
    return out;
  }

  /** The embedding buckets of the user (every row) and the items, for a model's bucket counts. */
  void fillIds(int userBuckets, int itemBuckets) {
    userIds.clear();
    itemIds.clear();
    long u = Vectorizer.bucket(features.userId(), userBuckets);
    for (int i = 0; i < rows; i++) {
      userIds.put(u);
      itemIds.put(Vectorizer.bucket(ids[i], itemBuckets));
    }
    userIds.flip();
    itemIds.flip();
  }

  private static FloatBuffer floats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  private static LongBuffer longs(int n) {
    return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
