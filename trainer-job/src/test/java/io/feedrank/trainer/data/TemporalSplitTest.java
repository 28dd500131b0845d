package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

public class TemporalSplitTest {
  /** How many of {@code examples} share their event-time millisecond with another. */
  public static long sharingAMillisecond(List<Example> examples) {
    return examples.stream()
        .collect(Collectors.groupingBy(Example::eventTimeMillis, Collectors.counting()))
        .values()
        .stream()
        .filter(c -> c > 1)
        .mapToLong(c -> c)
        .sum();
  }

  static Example at(long t) {
    return new Example(
        1, 2, t, 0, 0, Device.MOBILE, "c", new double[0], new double[0], new double[0], false);
  }

  @Test
  void seventyFifteenFifteenByEventTimeWhateverTheOrder() {
    List<Example> examples = new ArrayList<>();
    for (int i = 99; i >= 0; i--) {
      examples.add(at(i * 10L)); // newest first
    }
    TemporalSplit s = TemporalSplit.of(examples);
    assertThat(s.train()).hasSize(70);
    assertThat(s.validation()).hasSize(15);
    assertThat(s.test()).hasSize(15);
    assertThat(s.train().get(69).eventTimeMillis()).isEqualTo(690);
    assertThat(s.testFromMillis()).isEqualTo(850);
  }

  @Test
  void examplesOfTheMillisecondWhereTheTestSplitWouldStartStayOutOfIt() {
    // 100 examples; 83 to 87 share a millisecond, across the 85% mark
    List<Example> examples = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      examples.add(at(i >= 83 && i <= 87 ? 830 : i * 10L));
    }
    TemporalSplit s = TemporalSplit.of(examples);
    assertThat(s.validation()).hasSize(18); // 70 to 87
    assertThat(s.test()).hasSize(12);
    assertThat(s.testFromMillis()).isEqualTo(880);
    long lastLearned = s.validation().get(s.validation().size() - 1).eventTimeMillis();
    assertThat(lastLearned).isLessThan(s.testFromMillis());
  }

  @Test
  void examplesOfTheMillisecondWhereValidationWouldStartStayOnTheTrainingSide() {
    // 100 examples; 68 to 72 share a millisecond, across the 70% mark
    List<Example> examples = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      examples.add(at(i >= 68 && i <= 72 ? 680 : i * 10L));
    }
    TemporalSplit s = TemporalSplit.of(examples);
    assertThat(s.train()).hasSize(73); // 0 to 72
    assertThat(s.validation()).hasSize(12); // 73 to 84
    assertThat(s.validation().get(0).eventTimeMillis()).isEqualTo(730);
    assertThat(s.test()).hasSize(15);
  }

  /**
   * 10,000 examples of which a third share their millisecond with others (3 to 5 of different
   * users, items and labels), as at production rates: the sample a run keeps and its split are the
   * same lists, element for element, whether they were offered in order or shuffled (a Kafka read
   * interleaves its partitions differently each time).
   */
  @Test
  void theSameExamplesInAnyOrderGiveTheSameSplitsElementForElement() {
    Random random = new Random(11);
    List<Example> examples = new ArrayList<>();
    long t = 1_700_000_000_000L;
    while (examples.size() < 10_000) {
      t += 1 + random.nextInt(50);
      int sharing = random.nextInt(3) == 0 ? 3 + random.nextInt(3) : 1;
      for (int j = 0; j < sharing && examples.size() < 10_000; j++) {
        examples.add(
            new Example(
                random.nextInt(50),
                random.nextInt(200),
                t,
                random.nextInt(24),
                1 + random.nextInt(7),
                Device.values()[random.nextInt(Device.values().length)],
                "c" + random.nextInt(3),
                new double[] {random.nextDouble()},
                new double[] {random.nextDouble()},
                new double[] {random.nextDouble()},
                random.nextBoolean()));
      }
    }
    assertThat(sharingAMillisecond(examples)).isGreaterThan(3_000);

    List<Example> shuffled = new ArrayList<>(examples);
    Collections.shuffle(shuffled, new Random(12));
    TemporalSplit inOrder = TemporalSplit.of(kept(examples));
    TemporalSplit reordered = TemporalSplit.of(kept(shuffled));
    // the same instances at the same positions (Example's equals compares the arrays by identity)
    assertThat(reordered.train()).containsExactlyElementsOf(inOrder.train());
    assertThat(reordered.validation()).containsExactlyElementsOf(inOrder.validation());
    assertThat(reordered.test()).containsExactlyElementsOf(inOrder.test());
    assertThat(inOrder.train().size() + inOrder.validation().size() + inOrder.test().size())
        .isEqualTo(10_000);
    // and no millisecond across either boundary
    assertThat(last(inOrder.train())).isLessThan(inOrder.validation().get(0).eventTimeMillis());
    assertThat(last(inOrder.validation())).isLessThan(inOrder.testFromMillis());
  }

  /** What a run holds of {@code examples} offered in their order: all of them. */
  private static List<Example> kept(List<Example> examples) {
    ExampleSample sample = new ExampleSample(examples.size(), 7);
    examples.forEach(sample::offer);
    return sample.examples();
  }

  private static long last(List<Example> examples) {
    return examples.get(examples.size() - 1).eventTimeMillis();
  }
}
