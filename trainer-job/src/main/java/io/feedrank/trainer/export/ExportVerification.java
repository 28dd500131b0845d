package io.feedrank.trainer.export;

import io.feedrank.features.vector.ModelInputs;
import io.feedrank.trainer.data.Dataset;
import java.util.Map;

/**
 * Checks an export: ONNX Runtime's scores of {@code rows} must equal the training framework's
 * within {@code tolerance}, or the export is refused. For a two-tower model the separate towers are
 * checked too, through {@code sigmoid(user_vec · item_vec)}, since the ranker serves them.
 */
public final class ExportVerification {

  /** What was compared. */
  public record Result(int rows, double maxAbsDiff, double towerMaxAbsDiff) {}

  /** Thrown when ONNX Runtime and the training framework disagree. */
  public static final class ExportMismatchException extends RuntimeException {
    ExportMismatchException(String message) {
      super(message);
    }
  }

  /** The fewest held-out rows an export is checked on. */
  public static final int MIN_ROWS = 1000;

  /**
   * The largest tolerance an export is checked with. Scores are probabilities, and a correct export
   * agrees with PyTorch within about 2e-6 (measured: 5e-7 for the MLP, 2e-6 for the two-tower
   * model); a tolerance much looser than this one lets a wrong export through, and an infinite one
   * turned the check off.
   */
  public static final double MAX_TOLERANCE = 1e-2;

  private ExportVerification() {}

  /**
   * @param reference the training framework's scores of {@code rows}
   * @param dimension a two-tower model's vector dimension (ignored otherwise)
   */
  public static Result verify(
      Map<String, byte[]> onnx,
      Dataset rows,
      float[] reference,
      int dimension,
      int minRows,
      double tolerance) {
    if (rows.size < minRows) {
      throw new IllegalArgumentException(
          "export check needs at least " + minRows + " held-out rows, has " + rows.size);
    }
    double max = maxDiff(OnnxScorer.scores(onnx.get("model"), rows), reference);
    check(max, tolerance, "model");
    double tower = Double.NaN;
    if (onnx.containsKey(ModelInputs.ROLE_USER_TOWER)) {
      float[] u =
          vectors(onnx.get(ModelInputs.ROLE_USER_TOWER), ModelInputs.USER_VECTOR, rows, dimension);
      float[] i =
          vectors(onnx.get(ModelInputs.ROLE_ITEM_TOWER), ModelInputs.ITEM_VECTOR, rows, dimension);
      float[] s = new float[rows.size];
      for (int r = 0; r < rows.size; r++) {
        double dot = 0;
        for (int k = 0; k < dimension; k++) {
          dot += (double) u[r * dimension + k] * i[r * dimension + k];
        }
        s[r] = (float) (1 / (1 + Math.exp(-dot)));
      }
      tower = maxDiff(s, reference);
      check(tower, tolerance, "towers");
    }
    return new Result(rows.size, max, tower);
  }

  private static float[] vectors(byte[] model, String output, Dataset rows, int dimension) {
    try (OnnxScorer s = new OnnxScorer(model, output, dimension)) {
      return s.run(rows);
    }
  }

  private static double maxDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new ExportMismatchException(
          "ONNX Runtime returned " + a.length + " scores for " + b.length + " rows");
    }
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs((double) a[i] - b[i]);
      if (Double.isNaN(d)) {
        return Double.NaN; // fails the check
      }
      max = Math.max(max, d);
    }
    return max;
  }

  private static void check(double max, double tolerance, String what) {
    if (!(max <= tolerance)) {
      throw new ExportMismatchException(
          "ONNX export of the "
              + what
              + " disagrees with the training framework: max |Δscore| "
              + max
              + " > "
              + tolerance);
    }
  }
}
