package io.feedrank.trainer.data;

import io.feedrank.features.vector.Vectorizer;
import java.util.List;

/**
 * Examples as the model sees them: one flat row-major {@code float} column block per input group
 * (built by {@link Vectorizer}, the code the ranker serves with), embedding bucket ids, the click
 * label and, for per-user ranking metrics, the raw user id.
 */
public final class Dataset {
  public static final int USER = Vectorizer.USER_WIDTH;
  public static final int ITEM = Vectorizer.ITEM_WIDTH;
  public static final int CROSS = Vectorizer.CROSS_WIDTH;
  public static final int CONTEXT = Vectorizer.CONTEXT_WIDTH;

  public final int size;
  public final float[] user;
  public final float[] item;
  public final float[] cross;
  public final float[] context;
  public final long[] userBucket;
  public final long[] itemBucket;
  public final float[] label;
  public final long[] userId;
  public final int userBuckets;
  public final int itemBuckets;

  private Dataset(int n, int userBuckets, int itemBuckets) {
    this.size = n;
    this.userBuckets = userBuckets;
    this.itemBuckets = itemBuckets;
    user = new float[n * USER];
    item = new float[n * ITEM];
    cross = new float[n * CROSS];
    context = new float[n * CONTEXT];
    userBucket = new long[n];
    itemBucket = new long[n];
    label = new float[n];
    userId = new long[n];
  }

  /** Vectorizes {@code rows} with the model's embedding bucket counts. */
  public static Dataset of(List<Example> rows, int userBuckets, int itemBuckets) {
    Dataset d = new Dataset(rows.size(), userBuckets, itemBuckets);
    for (int r = 0; r < rows.size(); r++) {
      Example e = rows.get(r);
      Vectorizer.user(e.user(), d.user, r * USER);
      Vectorizer.item(e.item(), d.item, r * ITEM);
      Vectorizer.cross(e.cross(), d.cross, r * CROSS);
      Vectorizer.context(e.hourOfDay(), e.dayOfWeek(), e.device(), d.context, r * CONTEXT);
      d.userBucket[r] = Vectorizer.bucket(e.userId(), userBuckets);
      d.itemBucket[r] = Vectorizer.bucket(e.itemId(), itemBuckets);
      d.label[r] = e.click() ? 1f : 0f;
      d.userId[r] = e.userId();
    }
    return d;
  }

  /** The first {@code n} rows (or all of them), as a new dataset. */
  public Dataset head(int n) {
    int m = Math.min(n, size);
    Dataset d = new Dataset(m, userBuckets, itemBuckets);
    System.arraycopy(user, 0, d.user, 0, m * USER);
    System.arraycopy(item, 0, d.item, 0, m * ITEM);
    System.arraycopy(cross, 0, d.cross, 0, m * CROSS);
    System.arraycopy(context, 0, d.context, 0, m * CONTEXT);
    System.arraycopy(userBucket, 0, d.userBucket, 0, m);
    System.arraycopy(itemBucket, 0, d.itemBucket, 0, m);
    System.arraycopy(label, 0, d.label, 0, m);
    System.arraycopy(userId, 0, d.userId, 0, m);
    return d;
  }

  public long positives() {
    long p = 0;
    for (float l : label) {
      p += l > 0.5f ? 1 : 0;
    }
    return p;
  }
}
