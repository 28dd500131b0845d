package io.feedrank.models.onnx;

/** Checks of weight array sizes; failures name the field and the expected size. */
final class Shapes {

  static void require(float[] a, long expected, String field) {
    if (a == null) {
      throw new IllegalArgumentException(field + " is missing; expected " + expected + " values");
    }
    if (a.length != expected) {
      throw new IllegalArgumentException(
          field + " has " + a.length + " values; expected " + expected);
    }
  }

  private Shapes() {}
}
