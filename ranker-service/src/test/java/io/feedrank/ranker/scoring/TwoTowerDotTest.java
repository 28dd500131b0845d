package io.feedrank.ranker.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.math.BigDecimal;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TwoTowerDotTest {

  /** Against the exact sum (BigDecimal products of the floats), at offsets, odd lengths too. */
  @Test
  void theDotProductIsWithinAFewUlpsOfTheExactSum() {
    Random r = new Random(3);
    for (int t = 0; t < 2_000; t++) {
      int n = 1 + r.nextInt(130);
      int aOff = r.nextInt(5);
      int bOff = r.nextInt(300);
      float[] a = new float[aOff + n];
      float[] b = new float[bOff + n + r.nextInt(3)];
      BigDecimal exact = BigDecimal.ZERO;
      double magnitude = 0;
      for (int k = 0; k < n; k++) {
        a[aOff + k] = (float) (r.nextGaussian() * (t % 3 == 0 ? 10 : 0.3));
        b[bOff + k] = (float) r.nextGaussian();
        exact = exact.add(new BigDecimal(a[aOff + k]).multiply(new BigDecimal(b[bOff + k])));
        magnitude += Math.abs((double) a[aOff + k] * b[bOff + k]);
      }
      float got = TwoTowerScorer.dot(a, aOff, b, bOff, n);
      assertThat((double) got)
          .as("case %d, n %d", t, n)
          .isCloseTo(exact.doubleValue(), within(magnitude * 16 * Math.ulp(1f)));
    }
  }
}
