package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.models.onnx.Dense;
import io.feedrank.trainer.SimData;
import org.junit.jupiter.api.Test;

class StandardizationTest {
  static final int N = 400;

  /** A training split whose first three user columns are set by the test; the rest as simulated. */
  static Dataset train() {
    Dataset d = Dataset.of(SimData.examples(N), 100, 100);
    for (int r = 0; r < N; r++) {
      d.user[r * Dataset.USER] = 1 + r % 4; // 1, 2, 3, 4, ...: mean 2.5, population std √1.25
      d.user[r * Dataset.USER + 1] = r == 0 ? 0.02f : 0f; // nearly constant: std 0.02·√399/400
      d.user[r * Dataset.USER + 2] = 0.3f; // constant
    }
    return d;
  }

  static float[] oneUserRow(float c0, float c1, float c2) {
    float[] row = new float[Dataset.USER];
    row[0] = c0;
    row[1] = c1;
    row[2] = c2;
    return row;
  }

  @Test
  void standardisesWithTheTrainingSplitsMeanAndPopulationStd() {
    Standardization s = Standardization.fit(train());
    float[] z = s.apply(oneUserRow(4f, 0f, 0.3f), Standardization.Group.USER);
    assertThat(z[0]).isCloseTo((float) ((4 - 2.5) / Math.sqrt(1.25)), within(1e-5f));
    assertThat(z[2]).isEqualTo(0f);
  }

  @Test
  void aNearlyConstantColumnIsDividedByAtLeastTheFloorSoLaterRowsDoNotExplode() {
    Standardization s = Standardization.fit(train());
    // its std on the training rows is 0.02·√399/400 ≈ 0.001: a later 0.5 would be z ≈ 500
    float[] z = s.apply(oneUserRow(2.5f, 0.5f, 0.3f), Standardization.Group.USER);
    double mean = 0.02 / N;
    assertThat(z[1]).isCloseTo((float) ((0.5 - mean) / Standardization.MIN_STD), within(1e-4f));
    assertThat(z[0]).isCloseTo(0f, within(1e-6f));
  }

  @Test
  void aConstantColumnIsLeftOutWhateverALaterRowHolds() {
    Standardization s = Standardization.fit(train());
    float[] z = s.apply(oneUserRow(2.5f, 0f, 0.8f), Standardization.Group.USER);
    assertThat(z[2]).isEqualTo(0f);
  }

  /**
   * The folded layer on raw inputs equals the trained layer on standardised ones, worked out here
   * from the three columns' means and stds, and a constant column adds nothing even where a later
   * row differs from its training value (its weights were never trained).
   */
  @Test
  void theFoldedLayerTakesRawInputsAndGivesAConstantColumnNoWeight() {
    Standardization s = Standardization.fit(train());
    int in = Dataset.USER;
    float[] w = new float[in * 2]; // only the three set columns carry weight
    float[][] set = {{0.5f, -1.25f}, {2f, 0.75f}, {-3f, 4f}};
    for (int i = 0; i < 3; i++) {
      w[i * 2] = set[i][0];
      w[i * 2 + 1] = set[i][1];
    }
    float[] bias = {0.1f, -0.2f};
    Dense folded =
        s.fold(new Dense(in, 2, w, bias), Standardization.columns(0, Standardization.Group.USER));

    double z0 = (3.5 - 2.5) / Math.sqrt(1.25);
    double z1 = (0.25 - 0.02 / N) / Standardization.MIN_STD;
    for (float constantColumn : new float[] {0.3f, 0.8f}) {
      float[] raw = new float[in];
      raw[0] = 3.5f;
      raw[1] = 0.25f;
      raw[2] = constantColumn;
      for (int j = 0; j < 2; j++) {
        double expected = bias[j] + set[0][j] * z0 + set[1][j] * z1;
        double y = folded.bias()[j];
        for (int i = 0; i < in; i++) {
          y += folded.weights()[i * 2 + j] * raw[i];
        }
        assertThat(y)
            .as("output %d, constant column at %s", j, constantColumn)
            .isCloseTo(expected, within(1e-4));
      }
    }
  }
}
