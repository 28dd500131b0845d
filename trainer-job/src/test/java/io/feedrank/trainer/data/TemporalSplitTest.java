package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TemporalSplitTest {
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
}
