package io.feedrank.ranker.scoring;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.ranker.features.Parsed;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A two-tower model served as its towers: item vectors come from a cache filled by the item tower
 * and refreshed when the item's features change (the {@link Parsed#fingerprint} of its Redis hash
 * moves) or after {@code maxAge} (decayed counters age even without events); a request runs the
 * user tower once and the item tower only for the candidates not cached, then scores by {@code
 * sigmoid(user · item)}.
 *
 * <p>A computed vector is also left on the item's cached features ({@link Parsed.Item#derived}), so
 * a request finds it with the features it already looked up: the vector cache is read only when the
 * features were re-read (every few seconds per item) and the vector may still hold.
 */
public final class TwoTowerScorer implements Scorer {
  /**
   * {@code owner}: the scorer that computed it (its token, so that a memo does not keep a replaced
   * model's cache reachable); {@code fingerprint}: that of the hash whose features it was computed
   * from.
   */
  private record ItemVector(
      Object owner, long itemId, long fingerprint, long computedNanos, float[] vector) {
    /** Still the item's vector: features of the same hash, and young enough. */
    boolean matches(Parsed.Item item, long now, long maxAgeNanos) {
      return fingerprint == item.fingerprint() && now - computedNanos < maxAgeNanos;
    }

    /**
     * Left on {@code item} by this scorer for this id and young enough: the same item entry can
     * stand for many ids ({@link Parsed.Item#UNKNOWN}) and be scored by several models (A/B).
     */
    static float[] memo(Parsed.Item item, Object owner, long itemId, long now, long maxAgeNanos) {
      return item.derived() instanceof ItemVector v
              && v.owner == owner
              && v.itemId == itemId
              && now - v.computedNanos < maxAgeNanos
          ? v.vector
          : null;
    }
  }

  private final Object token = new Object();

  private final OnnxModel userTower;
  private final OnnxModel itemTower;
  private final Cache<Long, ItemVector> vectors;
  private final long maxAgeNanos;
  private final LongSupplier nanoClock;

  public TwoTowerScorer(
      OnnxModel userTower,
      OnnxModel itemTower,
      int maxItems,
      Duration maxAge,
      LongSupplier nanoClock) {
    this.userTower = userTower;
    this.itemTower = itemTower;
    this.vectors = Caffeine.newBuilder().maximumSize(maxItems).build();
    this.maxAgeNanos = maxAge.toNanos();
    this.nanoClock = nanoClock;
  }

  /** Loads the two tower models; closes what it opened when the second fails. */
  public static TwoTowerScorer load(
      byte[] userTowerOnnx,
      byte[] itemTowerOnnx,
      int intraOpThreads,
      int maxItems,
      Duration maxAge) {
    OnnxModel u = OnnxModel.load(userTowerOnnx, ModelInputs.USER_VECTOR, intraOpThreads);
    try {
      OnnxModel i = OnnxModel.load(itemTowerOnnx, ModelInputs.ITEM_VECTOR, intraOpThreads);
      return new TwoTowerScorer(u, i, maxItems, maxAge, System::nanoTime);
    } catch (RuntimeException e) {
      u.close();
      throw e;
    }
  }

  @Override
  public float[] score(Batch batch) {
    int n = batch.rows();
    long now = nanoClock.getAsLong();
    float[][] items = new float[n][];
    int[] missing = new int[n];
    int m = 0;
    long[] ids = batch.itemIds();
    for (int i = 0; i < n; i++) {
      Parsed.Item item = batch.item(i);
      float[] memo = ItemVector.memo(item, token, ids[i], now, maxAgeNanos);
      if (memo != null) {
        items[i] = memo;
        continue;
      }
      ItemVector v = vectors.getIfPresent(ids[i]);
      if (v != null && v.matches(item, now, maxAgeNanos)) {
        items[i] = v.vector();
        item.derived(v);
      } else {
        missing[m++] = i;
      }
    }
    if (m > 0) {
      Batch sub = batch.subset(missing, m);
      float[] flat = itemTower.run(sub, m);
      int d = flat.length / m;
      for (int k = 0; k < m; k++) {
        float[] vec = new float[d];
        System.arraycopy(flat, k * d, vec, 0, d);
        int i = missing[k];
        items[i] = vec;
        Parsed.Item source = batch.item(i);
        ItemVector v = new ItemVector(token, ids[i], source.fingerprint(), now, vec);
        vectors.put(ids[i], v);
        source.derived(v);
      }
    }
    float[] user = userTower.run(batch.subset(new int[] {0}, 1), 1);
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      float[] v = items[i];
      if (v.length != user.length) {
        throw new ModelException(
            "tower dimensions differ: user " + user.length + ", item " + v.length);
      }
      double dot = dot(user, v);
      scores[i] = (float) (1.0 / (1.0 + Math.exp(-dot)));
    }
    return scores;
  }

  /** {@code a · b} in double, four independent sums (a dependency chain of 4, not 64). */
  static double dot(float[] a, float[] b) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int k = 0;
    for (; k + 3 < a.length; k += 4) {
      s0 += (double) a[k] * b[k];
      s1 += (double) a[k + 1] * b[k + 1];
      s2 += (double) a[k + 2] * b[k + 2];
      s3 += (double) a[k + 3] * b[k + 3];
    }
    for (; k < a.length; k++) {
      s0 += (double) a[k] * b[k];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void close() {
    try {
      userTower.close();
    } finally {
      itemTower.close();
    }
  }
}
