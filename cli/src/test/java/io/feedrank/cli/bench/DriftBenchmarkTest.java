package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class DriftBenchmarkTest {
  /** The figures' keys are the same on a machine whose locale writes a decimal comma. */
  @Test
  void psiKeysDoNotFollowTheDefaultLocale() {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.GERMANY);
    try {
      assertThat(DriftBenchmark.psiKey(0.1)).isEqualTo("0_1");
      assertThat(DriftBenchmark.psiKey(0.2)).isEqualTo("0_2");
      assertThat(DriftBenchmark.psiKey(0.5)).isEqualTo("0_5");
    } finally {
      Locale.setDefault(before);
    }
  }
}
