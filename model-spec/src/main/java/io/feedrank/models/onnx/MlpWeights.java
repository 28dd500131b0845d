package io.feedrank.models.onnx;

import io.feedrank.features.vector.Vectorizer;
import java.util.List;

/**
 * A deep MLP: the input is {@code [user, item, cross, context, userEmb, itemEmb]} concatenated,
 * ReLU after every hidden layer (BatchNorm folded into it), then {@code output} (one unit) and a
 * sigmoid.
 */
public record MlpWeights(Embedding user, Embedding item, List<Dense> hidden, Dense output) {
  /** Width of the dense feature part of the input. */
  public static final int DENSE_WIDTH =
      Vectorizer.USER_WIDTH
          + Vectorizer.ITEM_WIDTH
          + Vectorizer.CROSS_WIDTH
          + Vectorizer.CONTEXT_WIDTH;

  public MlpWeights {
    hidden = List.copyOf(hidden);
    int width = DENSE_WIDTH + user.dim() + item.dim();
    width = Layers.chain(hidden, width, "hidden");
    if (output.in() != width || output.out() != 1) {
      throw new IllegalArgumentException(
          "output layer must be " + width + "x1, is " + output.in() + "x" + output.out());
    }
  }
}
