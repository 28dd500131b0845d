package io.feedrank.ranker.scoring;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.feedrank.features.vector.ModelInputs;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A two-tower model served as its towers: item vectors come from a cache filled by the item tower
 * and refreshed when the item's features change (its Redis {@code _ts} moves) or after {@code
 * maxAge} (decayed counters age even without events); a request runs the user tower once and the
 * item tower only for the candidates not cached, then scores by {@code sigmoid(user · item)}.
 */
public final class TwoTowerScorer implements Scorer {
  private record ItemVector(String ts, long computedNanos, float[] vector) {}

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
    for (int i = 0; i < n; i++) {
      ItemVector v = vectors.getIfPresent(batch.itemIds()[i]);
      if (v != null && v.ts().equals(batch.item(i).ts()) && now - v.computedNanos() < maxAgeNanos) {
        items[i] = v.vector();
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
        vectors.put(batch.itemIds()[i], new ItemVector(batch.item(i).ts(), now, vec));
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
      double dot = 0;
      for (int k = 0; k < v.length; k++) {
        dot += (double) user[k] * v[k];
      }
      scores[i] = (float) (1.0 / (1.0 + Math.exp(-dot)));
    }
    return scores;
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
