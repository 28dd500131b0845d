package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The sample a run keeps of its range: all of it up to the capacity, then a uniform sample over
 * event time, the same for the same seed whatever the order the examples come in. The statistical
 * bounds are computed here from the hypergeometric distribution of a uniform sample without
 * replacement (n of N, K of the N in a class: mean nK/N, variance n(K/N)(1 − K/N)(N − n)/(N − 1)).
 */
class ExampleSampleTest {
  static final int N = 20_000;
  static final int CAPACITY = 10_000;

  /** {@code n} examples one second apart in event time, of distinct users and items. */
  static List<Example> range(int n) {
    List<Example> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(
          new Example(
              1_000 + i % 997,
              5_000 + i,
              1_700_000_000_000L + i * 1_000L,
              0,
              0,
              Device.MOBILE,
              "c",
              new double[0],
              new double[0],
              new double[0],
              i % 3 == 0));
    }
    return out;
  }

  static Set<Long> times(List<Example> examples) {
    Set<Long> out = new HashSet<>();
    examples.forEach(e -> out.add(e.eventTimeMillis()));
    return out;
  }

  static ExampleSample offered(List<Example> examples, int capacity, long seed) {
    ExampleSample s = new ExampleSample(capacity, seed);
    examples.forEach(s::offer);
    return s;
  }

  /** Standard deviation of the count of one class in a uniform sample of n of N, K in the class. */
  static double hypergeometricSd(int n, int bigN, int k) {
    double p = (double) k / bigN;
    return Math.sqrt(n * p * (1 - p) * (bigN - n) / (double) (bigN - 1));
  }

  @Test
  void keepsEveryExampleWhileThereAreNoMoreThanItsCapacity() {
    List<Example> examples = range(500);
    ExampleSample s = offered(examples, 500, 42);
    assertThat(s.sampled()).isFalse();
    assertThat(s.offered()).isEqualTo(500);
    assertThat(s.examples()).containsExactlyInAnyOrderElementsOf(examples);
  }

  @Test
  void twiceItsCapacityKeepsAUniformSampleOverEventTime() {
    List<Example> examples = range(N);
    ExampleSample s = offered(examples, CAPACITY, 42);
    assertThat(s.sampled()).isTrue();
    assertThat(s.offered()).isEqualTo(N);
    List<Example> kept = s.examples();
    assertThat(kept).hasSize(CAPACITY);
    assertThat(times(examples)).containsAll(times(kept));

    // both halves of the range, within 5 standard deviations of half each (a sample of the newest
    // or the oldest would hold one half only)
    long half = examples.get(N / 2).eventTimeMillis();
    long older = kept.stream().filter(e -> e.eventTimeMillis() < half).count();
    assertThat((double) older)
        .isCloseTo(CAPACITY / 2.0, within(5 * hypergeometricSd(CAPACITY, N, N / 2)));

    // and every tenth of it: a chi-square statistic over the ten deciles of event time against
    // the 0.999 quantile of chi-square with 9 degrees of freedom, 27.877 (tables; sampling without
    // replacement makes the statistic smaller than chi-square's, so the bound is conservative)
    long first = examples.get(0).eventTimeMillis();
    long width = (examples.get(N - 1).eventTimeMillis() - first + 1) / 10 + 1;
    long[] perDecile = new long[10];
    kept.forEach(e -> perDecile[(int) ((e.eventTimeMillis() - first) / width)]++);
    double expected = CAPACITY / 10.0;
    double chi2 = 0;
    for (long c : perDecile) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    assertThat(chi2).isLessThan(27.877);

    // and the label's share is kept as well: a third of the examples are clicks
    long clicks = kept.stream().filter(Example::click).count();
    int allClicks = (int) examples.stream().filter(Example::click).count();
    assertThat((double) clicks)
        .isCloseTo(
            CAPACITY * (double) allClicks / N,
            within(5 * hypergeometricSd(CAPACITY, N, allClicks)));
  }

  /**
   * The same seed keeps the same examples whatever the order they are offered in (a Kafka read
   * interleaves its partitions differently each time); another seed keeps another sample, as
   * independent of the first as a second draw: their overlap is hypergeometric too (n of N, the
   * first sample's n as the class).
   */
  @Test
  void theSampleDependsOnTheSeedAndTheExamplesNotOnTheirOrder() {
    List<Example> examples = range(N);
    Set<Long> first = times(offered(examples, CAPACITY, 42).examples());
    List<Example> shuffled = new ArrayList<>(examples);
    Collections.shuffle(shuffled, new Random(1));
    assertThat(times(offered(shuffled, CAPACITY, 42).examples())).isEqualTo(first);
    Collections.reverse(shuffled);
    assertThat(times(offered(shuffled, CAPACITY, 42).examples())).isEqualTo(first);

    Set<Long> other = times(offered(examples, CAPACITY, 43).examples());
    Set<Long> both = new HashSet<>(first);
    both.retainAll(other);
    assertThat((double) both.size())
        .isCloseTo(
            (double) CAPACITY * CAPACITY / N, within(5 * hypergeometricSd(CAPACITY, N, CAPACITY)));
  }
}
