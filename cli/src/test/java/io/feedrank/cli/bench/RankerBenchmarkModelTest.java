package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.features.vector.Vectorizer;
import io.feedrank.models.onnx.Dense;
import io.feedrank.models.onnx.MlpWeights;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The benchmark's deep MLP, of the DESIGN size or of the widths {@code --mlp-layers} names. */
class RankerBenchmarkModelTest {
  static final int INPUTS =
      Vectorizer.USER_WIDTH
          + Vectorizer.ITEM_WIDTH
          + Vectorizer.CROSS_WIDTH
          + Vectorizer.CONTEXT_WIDTH
          + 2 * RankerBenchmark.EMBEDDING_DIM;

  static List<int[]> shapes(MlpWeights w) {
    return w.hidden().stream().map(d -> new int[] {d.in(), d.out()}).toList();
  }

  @Test
  void theDefaultIsTheDesignSize() {
    MlpWeights w = RankerBenchmark.mlpWeights(new Random(1));
    assertThat(shapes(w))
        .containsExactly(new int[] {INPUTS, 512}, new int[] {512, 256}, new int[] {256, 128});
    assertThat(new int[] {w.output().in(), w.output().out()}).containsExactly(128, 1);
  }

  @Test
  void otherWidthsChainFromTheInputsToOneScore() {
    MlpWeights w = RankerBenchmark.mlpWeights(new Random(1), List.of(1024, 512, 256));
    assertThat(shapes(w))
        .containsExactly(new int[] {INPUTS, 1024}, new int[] {1024, 512}, new int[] {512, 256});
    Dense out = w.output();
    assertThat(new int[] {out.in(), out.out()}).containsExactly(256, 1);
    assertThat(w.hidden().get(0).weights()).hasSize(INPUTS * 1024);
  }
}
