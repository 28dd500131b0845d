package io.feedrank.trainer.data;

import io.feedrank.models.onnx.Dense;

/**
 * Per-column standardisation of the dense groups, {@code z = (x − mean)/std}, fitted on the
 * training split. Networks train on standardised copies; at export the first layer absorbs it
 * ({@link #fold}), so the exported model takes the vectorizer's output as it is and the ranker
 * never needs fitted state.
 *
 * <p>Columns are numbered over {@code [user, item, cross, context]} (see {@link #offset}). A column
 * constant on the training split is left out: its z is 0 whatever the row holds, and {@link #fold}
 * gives it no weight. The network never saw it vary, so the weights it would multiply are still
 * their random initial values (their gradient was 0 throughout), and a later row where it differs —
 * a request without a device, when training had devices on every row — would add them to the score.
 * Any other column's std is at least {@value #MIN_STD}. The vectorizer's outputs are on a unit
 * scale (shares, rates, one-hots, log counts), so a spread below that on the training split says
 * more about the split than about the feature: a temporal split of a few hours puts a user's share
 * of activity in the 04–08 h bucket at ~0 with a std of 6e-4 in training, and the later validation
 * rows, where it is 0.15, came out at z ≈ 240 — the validation AUC then swung between 0.58 and 0.79
 * from one epoch to the next and early stopping picked noise.
 */
public final class Standardization {
  public static final int WIDTH = Dataset.USER + Dataset.ITEM + Dataset.CROSS + Dataset.CONTEXT;

  /** The smallest std a non-constant column is divided by. */
  public static final double MIN_STD = 0.1;

  private final double[] mean = new double[WIDTH];
  private final double[] std = new double[WIDTH];
  private final boolean[] constant = new boolean[WIDTH];

  private Standardization() {}

  /** Column offset of a group: user 0, item, cross, context after it. */
  public static int offset(Group g) {
    return switch (g) {
      case USER -> 0;
      case ITEM -> Dataset.USER;
      case CROSS -> Dataset.USER + Dataset.ITEM;
      case CONTEXT -> Dataset.USER + Dataset.ITEM + Dataset.CROSS;
    };
  }

  /** The dense input groups. */
  public enum Group {
    USER,
    ITEM,
    CROSS,
    CONTEXT
  }

  public static Standardization fit(Dataset d) {
    Standardization s = new Standardization();
    s.fitGroup(d.user, Dataset.USER, offset(Group.USER), d.size);
    s.fitGroup(d.item, Dataset.ITEM, offset(Group.ITEM), d.size);
    s.fitGroup(d.cross, Dataset.CROSS, offset(Group.CROSS), d.size);
    s.fitGroup(d.context, Dataset.CONTEXT, offset(Group.CONTEXT), d.size);
    return s;
  }

  private void fitGroup(float[] x, int width, int off, int n) {
    for (int c = 0; c < width; c++) {
      double sum = 0;
      for (int r = 0; r < n; r++) {
        sum += x[r * width + c];
      }
      double m = n == 0 ? 0 : sum / n;
      double ss = 0;
      for (int r = 0; r < n; r++) {
        double dx = x[r * width + c] - m;
        ss += dx * dx;
      }
      double sd = n == 0 ? 0 : Math.sqrt(ss / n);
      mean[off + c] = m;
      constant[off + c] = sd < 1e-6;
      std[off + c] = constant[off + c] ? 1.0 : Math.max(MIN_STD, sd);
    }
  }

  /** A standardised copy of one group's columns. */
  public float[] apply(float[] x, Group g) {
    int width = width(g);
    int off = offset(g);
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = off + i % width;
      out[i] = constant[c] ? 0f : (float) ((x[i] - mean[c]) / std[c]);
    }
    return out;
  }

  /**
   * The first layer of a network that was trained on standardised inputs, rewritten to take raw
   * inputs: for input row {@code i} whose column is {@code columns[i] ≥ 0}, {@code W'[i] =
   * W[i]/std} and the bias loses {@code Σ mean/std·W[i]}; the row of a constant column becomes 0
   * (its z was always 0, so neither the weights nor the bias took it in); rows with {@code
   * columns[i] = −1} (embeddings) are unchanged.
   */
  public Dense fold(Dense first, int[] columns) {
    if (columns.length != first.in()) {
      throw new IllegalArgumentException(
          "fold: " + columns.length + " column indexes for a layer of " + first.in() + " inputs");
    }
    int out = first.out();
    float[] w = first.weights().clone();
    double[] b = new double[out];
    for (int j = 0; j < out; j++) {
      b[j] = first.bias()[j];
    }
    for (int i = 0; i < columns.length; i++) {
      int c = columns[i];
      if (c < 0) {
        continue;
      }
      for (int j = 0; j < out; j++) {
        double wij = first.weights()[i * out + j];
        if (constant[c]) {
          w[i * out + j] = 0f;
          continue;
        }
        w[i * out + j] = (float) (wij / std[c]);
        b[j] -= mean[c] / std[c] * wij;
      }
    }
    float[] bias = new float[out];
    for (int j = 0; j < out; j++) {
      bias[j] = (float) b[j];
    }
    return new Dense(first.in(), out, w, bias);
  }

  /**
   * Column indexes for a layer whose input is {@code groups} concatenated, then {@code extra} rows.
   */
  public static int[] columns(int extra, Group... groups) {
    int n = extra;
    for (Group g : groups) {
      n += width(g);
    }
    int[] cols = new int[n];
    int k = 0;
    for (Group g : groups) {
      for (int c = 0; c < width(g); c++) {
        cols[k++] = offset(g) + c;
      }
    }
    while (k < n) {
      cols[k++] = -1;
    }
    return cols;
  }

  public static int width(Group g) {
    return switch (g) {
      case USER -> Dataset.USER;
      case ITEM -> Dataset.ITEM;
      case CROSS -> Dataset.CROSS;
      case CONTEXT -> Dataset.CONTEXT;
    };
  }
}
