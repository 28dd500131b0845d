package io.feedrank.models.onnx;

import java.util.List;

final class Layers {

  /** Checks that the layers chain from {@code width}; returns the last width. */
  static int chain(List<Dense> layers, int width, String what) {
    for (int k = 0; k < layers.size(); k++) {
      Dense d = layers.get(k);
      if (d.in() != width) {
        throw new IllegalArgumentException(
            what + "[" + k + "] takes " + d.in() + " inputs; expected " + width);
      }
      width = d.out();
    }
    return width;
  }

  private Layers() {}
}
