package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
  void aConstantColumnKeepsAStdOfOne() {
    Standardization s = Standardization.fit(train());
    float[] z = s.apply(oneUserRow(2.5f, 0f, 0.8f), Standardization.Group.USER);
    assertThat(z[2]).isCloseTo(0.5f, within(1e-6f));
  }
}
