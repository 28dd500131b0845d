package io.feedrank.features.vector;

/** One vectorized row: every input group of {@link ModelInputs}. Mutable, for speed. */
public final class ModelRow {
  public final float[] user = new float[Vectorizer.USER_WIDTH];
  public final float[] item = new float[Vectorizer.ITEM_WIDTH];
  public final float[] cross = new float[Vectorizer.CROSS_WIDTH];
  public final float[] context = new float[Vectorizer.CONTEXT_WIDTH];
  public long userBucket;
  public long itemBucket;
}
