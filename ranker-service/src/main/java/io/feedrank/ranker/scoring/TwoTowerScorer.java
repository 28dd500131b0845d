package io.feedrank.ranker.scoring;

import io.feedrank.features.vector.ModelInputs;
import io.feedrank.ranker.features.Jitter;
import io.feedrank.ranker.features.Parsed;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A two-tower model served as its towers: item vectors are held in an {@link ItemVectorTable}
 * filled by the item tower and refreshed when the item's features change (the {@link
 * Parsed#fingerprint} of its Redis hash moves) or after {@code maxAge} (decayed counters age even
 * without events; each item's shortened by up to a quarter by its {@link Jitter}, so that vectors
 * computed together are not all computed again by the same requests); a request runs the user tower
 * once and the item tower only for the candidates without a valid vector, then scores by {@code
 * sigmoid(user · item)}.
 *
 * <p>The item tower reads decayed counters and the item's age as of the request's time, so the
 * table serves, and is filled by, only requests dated within {@value #EVENT_SLACK_MS} ms of the
 * server's clock: two requests sharing a vector are then at most two slacks and a max age apart (5
 * minutes, over which the fastest-decaying features, with a half-life of an hour, move by at most
 * 6%). A request dated otherwise (a replay from yesterday, a client's clock far off) is scored with
 * vectors computed for its own time and leaves none behind: before, one request from a year back
 * handed its vectors to everyone else's. One comparison per request, not one more load per
 * candidate: a per-slot time cost a 1,000-candidate request a quarter more CPU.
 *
 * <p>Before the features are looked up, {@link #cover} takes from the table every candidate whose
 * vector was computed from features read less than {@code featuresFresh} ago (the feature cache's
 * fresh TTL for items, with the item's {@link Jitter} as the cache applies it): those need no item
 * features at all, so a request with its item vectors held does not touch the feature cache for its
 * candidates. The others get their features, and their held vector is used again when the features
 * have the fingerprint it was computed from.
 */
public final class TwoTowerScorer implements Scorer {
  private final OnnxModel userTower;
  private final OnnxModel itemTower;
  private final int maxItems;
  private final long maxAgeNanos;
  private final long featuresFreshNanos;
  private final LongSupplier nanoClock;
  private volatile ItemVectorTable table; // made when the item tower first tells its width

  /** How far from the server's clock a request may be dated for the table to serve it. */
  public static final long EVENT_SLACK_MS = 120_000;

  private final LongSupplier wallMillis;

  /**
   * @param maxItems item vectors held at most
   * @param maxAge a vector is computed again after this long even if its features did not change
   * @param featuresFresh a vector whose features were read less than this long ago is served
   *     without looking them up (at most the feature cache's fresh TTL for items)
   */
  public TwoTowerScorer(
      OnnxModel userTower,
      OnnxModel itemTower,
      int maxItems,
      Duration maxAge,
      Duration featuresFresh,
      LongSupplier nanoClock,
      LongSupplier wallMillis) {
    this.wallMillis = wallMillis;
    this.userTower = userTower;
    this.itemTower = itemTower;
    this.maxItems = maxItems;
    this.maxAgeNanos = maxAge.toNanos();
    this.featuresFreshNanos = featuresFresh.toNanos();
    this.nanoClock = nanoClock;
  }

  /** Loads the two tower models; closes what it opened when the second fails. */
  public static TwoTowerScorer load(
      byte[] userTowerOnnx,
      byte[] itemTowerOnnx,
      int intraOpThreads,
      int maxItems,
      Duration maxAge,
      Duration featuresFresh) {
    OnnxModel u = OnnxModel.load(userTowerOnnx, ModelInputs.USER_VECTOR, intraOpThreads);
    try {
      OnnxModel i = OnnxModel.load(itemTowerOnnx, ModelInputs.ITEM_VECTOR, intraOpThreads);
      return new TwoTowerScorer(
          u, i, maxItems, maxAge, featuresFresh, System::nanoTime, System::currentTimeMillis);
    } catch (RuntimeException e) {
      u.close();
      throw e;
    }
  }

  /** Whether the request is dated near enough to the server's clock for the table. */
  private boolean current(Batch batch) {
    long at = batch.atMillis();
    long wall = wallMillis.getAsLong();
    return at - wall <= EVENT_SLACK_MS && wall - at <= EVENT_SLACK_MS;
  }

  @Override
  public int cover(Batch batch) {
    ItemVectorTable t = table;
    if (t == null || !current(batch)) {
      return 0;
    }
    int n = batch.rows();
    int d = t.dim();
    long now = nanoClock.getAsLong();
    float[] held = batch.scratch(n * d);
    long[] ids = batch.itemIds();
    for (int i = 0; i < n; i++) {
      if (t.copyIfValid(ids[i], now, held, i * d)) {
        batch.cover(i);
      }
    }
    return batch.coveredRows();
  }

  @Override
  public float[] score(Batch batch) {
    int n = batch.rows();
    long now = nanoClock.getAsLong();
    boolean current = current(batch);
    float[] user = userTower.run(batch.userRow(), 1);
    ItemVectorTable t = table;
    if (t != null && t.dim() != user.length) {
      throw new ModelException(
          "tower dimensions differ: user " + user.length + ", item " + t.dim());
    }
    float[] held = batch.scratch(n * user.length);
    float[] scores = new float[n];
    int[] missing = new int[n];
    int m = 0;
    long[] ids = batch.itemIds();
    for (int i = 0; i < n; i++) {
      int off = i * user.length;
      if (!batch.covered(i)) {
        Parsed.Item item = batch.item(i);
        if (t == null
            || !current
            || item.malformed()
            || !t.revalidate(
                ids[i],
                item.fingerprint(),
                now,
                Jitter.ttl(ids[i], maxAgeNanos),
                featuresDeadline(ids[i], batch.fetchedNanos(i), now),
                held,
                off)) {
          missing[m++] = i;
          continue;
        }
      }
      scores[i] = sigmoid(dot(user, 0, held, off, user.length));
    }
    if (m > 0) {
      float[] flat = itemTower.run(batch.subset(missing, m), m);
      int d = flat.length / m;
      if (d != user.length) {
        throw new ModelException("tower dimensions differ: user " + user.length + ", item " + d);
      }
      t = table(d);
      for (int k = 0; k < m; k++) {
        int i = missing[k];
        scores[i] = sigmoid(dot(user, 0, flat, k * d, d));
        Parsed.Item item = batch.item(i);
        long fetched = batch.fetchedNanos(i);
        if (current && !item.malformed() && fetched != Long.MIN_VALUE) {
          long deadline =
              Math.min(
                  featuresDeadline(ids[i], fetched, now), now + Jitter.ttl(ids[i], maxAgeNanos));
          t.put(ids[i], item.fingerprint(), now, deadline, flat, k * d);
        }
      }
    }
    return scores;
  }

  /**
   * Until when a vector of features read at {@code fetchedNanos} may be served without them: while
   * the feature cache holds them fresh (the same {@link Jitter} of the same TTL), or now (not at
   * all) for features served without a read.
   */
  private long featuresDeadline(long itemId, long fetchedNanos, long now) {
    return fetchedNanos == Long.MIN_VALUE
        ? now
        : fetchedNanos + Jitter.ttl(itemId, featuresFreshNanos);
  }

  private ItemVectorTable table(int dim) {
    ItemVectorTable t = table;
    if (t == null) {
      synchronized (this) {
        t = table;
        if (t == null) {
          t = new ItemVectorTable(maxItems, dim);
          table = t;
        }
      }
    }
    return t;
  }

  private static float sigmoid(double x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  /**
   * {@code a · b}: eight independent float sums of fused multiply-adds (a dependency chain of 8,
   * not 64, and no float-to-double conversions: it was a quarter of a covered two-tower request's
   * time in double), added pairwise. Its error is within a few float ulps of the sum of |a_k b_k|,
   * as is ONNX Runtime's float MatMul in the full model.
   */
  static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float s4 = 0;
    float s5 = 0;
    float s6 = 0;
    float s7 = 0;
    int k = 0;
    for (; k + 7 < n; k += 8) {
      s0 = Math.fma(a[aOff + k], b[bOff + k], s0);
      s1 = Math.fma(a[aOff + k + 1], b[bOff + k + 1], s1);
      s2 = Math.fma(a[aOff + k + 2], b[bOff + k + 2], s2);
      s3 = Math.fma(a[aOff + k + 3], b[bOff + k + 3], s3);
      s4 = Math.fma(a[aOff + k + 4], b[bOff + k + 4], s4);
      s5 = Math.fma(a[aOff + k + 5], b[bOff + k + 5], s5);
      s6 = Math.fma(a[aOff + k + 6], b[bOff + k + 6], s6);
      s7 = Math.fma(a[aOff + k + 7], b[bOff + k + 7], s7);
    }
    for (; k < n; k++) {
      s0 = Math.fma(a[aOff + k], b[bOff + k], s0);
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
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
