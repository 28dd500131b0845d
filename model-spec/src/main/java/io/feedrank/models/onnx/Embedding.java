package io.feedrank.models.onnx;

/**
 * A learned embedding table looked up by bucket index (see {@code Vectorizer.bucket}).
 *
 * @param table row-major {@code [buckets][dim]}
 */
public record Embedding(int buckets, int dim, float[] table) {

  public Embedding {
    if (buckets < 1 || dim < 1) {
      throw new IllegalArgumentException(
          "embedding needs buckets, dim >= 1, got " + buckets + "x" + dim);
    }
    Shapes.require(table, (long) buckets * dim, "table");
  }
}
