package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RankingTest {

  @Test
  void ordersByDescendingScoreWithTiesInRequestOrder() {
    float[] s = {0.5f, 0.9f, 0.5f, -1f, 0f, -0f, Float.MIN_VALUE, 1e-30f, -1e-30f, 0.9f};
    assertThat(Ranking.order(s, s.length)).containsExactly(1, 9, 0, 2, 7, 6, 4, 5, 8, 3);
    assertThat(Ranking.order(s, 3)).containsExactly(1, 9, 0);
    assertThat(Ranking.order(s, 1)).containsExactly(1);
  }

  @Test
  void agreesWithAComparatorSortOnRandomScores() {
    Random r = new Random(1);
    for (int t = 0; t < 200; t++) {
      float[] s = new float[1 + r.nextInt(1000)];
      for (int i = 0; i < s.length; i++) {
        s[i] = r.nextInt(4) == 0 ? (float) r.nextInt(3) : (float) r.nextGaussian();
      }
      int[] want =
          IntStream.range(0, s.length)
              .boxed()
              .sorted(Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparing(i -> i))
              .mapToInt(Integer::intValue)
              .toArray();
      int k = 1 + r.nextInt(s.length);
      assertThat(Ranking.order(s, k)).containsExactly(Arrays.copyOf(want, k));
      int few = Math.min(s.length, 1 + r.nextInt(20)); // a feed's top k: selected, not sorted
      assertThat(Ranking.order(s, few)).containsExactly(Arrays.copyOf(want, few));
    }
  }
}
