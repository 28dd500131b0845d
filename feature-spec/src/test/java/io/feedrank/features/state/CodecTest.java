package io.feedrank.features.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CodecTest {
  @Test
  void everyDoubleReadsBackBitForBitAndNeverLongerThanDoubleToString() {
    Random r = new Random(42);
    for (int i = 0; i < 300_000; i++) {
      double v =
          switch (i % 3) {
            case 0 -> Double.longBitsToDouble(r.nextLong()); // any exponent, subnormals included
            case 1 -> r.nextDouble() * 1000; // decayed counters
            default -> Math.pow(0.5, r.nextDouble() * 60) * r.nextInt(50); // decayed small counts
          };
      if (Double.isNaN(v)) {
        continue;
      }
      String s = Codec.number(v);
      assertThat(Double.doubleToRawLongBits(Double.parseDouble(s)))
          .as("%s from %s", s, Double.toString(v))
          .isEqualTo(Double.doubleToRawLongBits(v));
      assertThat(s.length()).as(s).isLessThanOrEqualTo(Double.toString(v).length());
    }
  }

  @Test
  void specialValuesAreJavaLiterals() {
    for (double v :
        new double[] {
          0.0,
          -0.0,
          1.0,
          Double.MIN_VALUE,
          Double.MIN_NORMAL,
          Double.MAX_VALUE,
          Double.POSITIVE_INFINITY,
          Double.NEGATIVE_INFINITY,
          0.1,
          1e-5,
          123456789012345678.0
        }) {
      assertThat(Double.doubleToRawLongBits(Double.parseDouble(Codec.number(v))))
          .as(Codec.number(v))
          .isEqualTo(Double.doubleToRawLongBits(v));
    }
    assertThat(Double.isNaN(Double.parseDouble(Codec.number(Double.NaN)))).isTrue();
    assertThat(Codec.number(0.1)).isEqualTo("0.1");
    assertThat(Codec.number(2.0)).isEqualTo("2.0");
  }
}
