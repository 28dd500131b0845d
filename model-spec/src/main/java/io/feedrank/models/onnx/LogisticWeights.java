package io.feedrank.models.onnx;

/** Logistic regression on {@code [user, item, cross, context]}: one linear unit and a sigmoid. */
public record LogisticWeights(Dense linear) {

  public LogisticWeights {
    if (linear.in() != MlpWeights.DENSE_WIDTH || linear.out() != 1) {
      throw new IllegalArgumentException(
          "logistic layer must be "
              + MlpWeights.DENSE_WIDTH
              + "x1, is "
              + linear.in()
              + "x"
              + linear.out());
    }
  }
}
