package io.feedrank.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.Standardization.Group;

/**
 * A dataset as networks train on it: dense groups standardised, and the rows of a mini-batch
 * gathered into NDArrays. Every network takes the same six inputs, in the order of {@code
 * ModelInputs}: user, item, cross, context, user bucket, item bucket (a network ignores what it
 * does not use).
 */
public final class TrainInputs {
  final int size;
  private final float[] user;
  private final float[] item;
  private final float[] cross;
  private final float[] context;
  private final long[] userBucket;
  private final long[] itemBucket;
  final float[] label;

  public TrainInputs(Dataset d, Standardization s) {
    size = d.size;
    user = s.apply(d.user, Group.USER);
    item = s.apply(d.item, Group.ITEM);
    cross = s.apply(d.cross, Group.CROSS);
    context = s.apply(d.context, Group.CONTEXT);
    userBucket = d.userBucket;
    itemBucket = d.itemBucket;
    label = d.label;
  }

  /** The inputs of rows {@code idx[from..to)} (or rows {@code from..to} when idx is null). */
  NDList batch(NDManager m, int[] idx, int from, int to) {
    int n = to - from;
    float[] u = new float[n * Dataset.USER];
    float[] i = new float[n * Dataset.ITEM];
    float[] c = new float[n * Dataset.CROSS];
    float[] x = new float[n * Dataset.CONTEXT];
    long[] ub = new long[n];
    long[] ib = new long[n];
    for (int k = 0; k < n; k++) {
      int r = idx == null ? from + k : idx[from + k];
      System.arraycopy(user, r * Dataset.USER, u, k * Dataset.USER, Dataset.USER);
      System.arraycopy(item, r * Dataset.ITEM, i, k * Dataset.ITEM, Dataset.ITEM);
      System.arraycopy(cross, r * Dataset.CROSS, c, k * Dataset.CROSS, Dataset.CROSS);
      System.arraycopy(context, r * Dataset.CONTEXT, x, k * Dataset.CONTEXT, Dataset.CONTEXT);
      ub[k] = userBucket[r];
      ib[k] = itemBucket[r];
    }
    return new NDList(
        m.create(u, new Shape(n, Dataset.USER)),
        m.create(i, new Shape(n, Dataset.ITEM)),
        m.create(c, new Shape(n, Dataset.CROSS)),
        m.create(x, new Shape(n, Dataset.CONTEXT)),
        m.create(ub, new Shape(n)),
        m.create(ib, new Shape(n)));
  }

  /** The labels of rows {@code idx[from..to)}. */
  NDArray labels(NDManager m, int[] idx, int from, int to) {
    int n = to - from;
    float[] y = new float[n];
    for (int k = 0; k < n; k++) {
      y[k] = label[idx == null ? from + k : idx[from + k]];
    }
    return m.create(y, new Shape(n));
  }

  /** Input shapes of a batch of {@code n} rows. */
  static Shape[] shapes(long n) {
    return new Shape[] {
      new Shape(n, Dataset.USER),
      new Shape(n, Dataset.ITEM),
      new Shape(n, Dataset.CROSS),
      new Shape(n, Dataset.CONTEXT),
      new Shape(n),
      new Shape(n)
    };
  }
}
