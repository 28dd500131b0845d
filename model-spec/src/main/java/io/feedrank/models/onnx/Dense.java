package io.feedrank.models.onnx;

/**
 * A fully connected layer {@code y = x·W + b}.
 *
 * @param weights row-major {@code [in][out]}
 * @param bias {@code [out]}
 */
public record Dense(int in, int out, float[] weights, float[] bias) {

  public Dense {
    if (in < 1 || out < 1) {
      throw new IllegalArgumentException("dense layer needs in, out >= 1, got " + in + "x" + out);
    }
    Shapes.require(weights, (long) in * out, "weights");
    Shapes.require(bias, out, "bias");
  }

  /**
   * The layer that computes this one followed by a BatchNormalization in inference mode, {@code (y
   * − mean)/√(var + eps)·γ + β}: each output column scaled by {@code γ/√(var + eps)}, the bias
   * shifted accordingly. ONNX export has no BatchNormalization, so trained models fold it.
   */
  public Dense foldBatchNorm(float[] gamma, float[] beta, float[] mean, float[] var, float eps) {
    Shapes.require(gamma, out, "gamma");
    Shapes.require(beta, out, "beta");
    Shapes.require(mean, out, "mean");
    Shapes.require(var, out, "var");
    float[] w = new float[weights.length];
    float[] b = new float[out];
    for (int j = 0; j < out; j++) {
      double scale = gamma[j] / Math.sqrt(var[j] + (double) eps);
      for (int i = 0; i < in; i++) {
        w[i * out + j] = (float) (weights[i * out + j] * scale);
      }
      b[j] = (float) ((bias[j] - mean[j]) * scale + beta[j]);
    }
    return new Dense(in, out, w, b);
  }

  /**
   * The layer restricted to some of its inputs: the weight rows of {@code spans} ({@code {start,
   * width}} each, in that order), with this layer's bias or none ({@code withBias} false: zeros).
   * Two such layers over inputs that partition this one's sum to it: {@code x·W + b = xₐ·Wₐ + b +
   * x_b·W_b}.
   */
  public Dense inputRows(int[][] spans, boolean withBias) {
    int n = 0;
    for (int[] s : spans) {
      if (s[0] < 0 || s[1] < 1 || s[0] + s[1] > in) {
        throw new IllegalArgumentException(
            "input rows " + s[0] + "+" + s[1] + " outside a layer of " + in + " inputs");
      }
      n += s[1];
    }
    float[] w = new float[n * out];
    int at = 0;
    for (int[] s : spans) {
      System.arraycopy(weights, s[0] * out, w, at, s[1] * out);
      at += s[1] * out;
    }
    return new Dense(n, out, w, withBias ? bias.clone() : new float[out]);
  }
}
