package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Per-entity TTLs: within the TTL's last quarter, never past it, fixed per id, and spread evenly
 * over ids, whether the ids are consecutive or random.
 */
class JitterTest {
  static final long TTL = 5_000_000_000L; // 5 s in nanos

  /** Counts of {@code (TTL - ttl(id)) / (TTL / 4)} in 10 equal bins, over {@code ids}. */
  static int[] deciles(long[] ids) {
    int[] bins = new int[10];
    for (long id : ids) {
      long t = Jitter.ttl(id, TTL);
      assertThat(t).as("id %d", id).isGreaterThan(TTL - TTL / 4).isLessThanOrEqualTo(TTL);
      assertThat(Jitter.ttl(id, TTL)).isEqualTo(t); // fixed for the id
      double share = (TTL - t) / (double) (TTL / 4); // in [0, 1)
      bins[(int) (share * 10)]++;
    }
    return bins;
  }

  @Test
  void consecutiveIdsSpreadEvenlyOverTheLastQuarter() {
    long[] ids = new long[100_000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i + 1;
    }
    assertEvenlySpread(ids);
  }

  @Test
  void randomIdsSpreadEvenlyOverTheLastQuarter() {
    Random r = new Random(7);
    long[] ids = new long[100_000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextLong();
    }
    assertEvenlySpread(ids);
  }

  /**
   * 10,000 per bin expected; a binomial standard deviation is sqrt(100,000 × 0.1 × 0.9) ≈ 95, so ±
   * 500 is over 5 of them. The mean share is 1/2 ± 0.005 (its standard error is 0.0009).
   */
  static void assertEvenlySpread(long[] ids) {
    int[] bins = deciles(ids);
    for (int b = 0; b < bins.length; b++) {
      assertThat(bins[b]).as("decile %d", b).isBetween(9_500, 10_500);
    }
    double mean = 0;
    for (long id : ids) {
      mean += (TTL - Jitter.ttl(id, TTL)) / (double) (TTL / 4);
    }
    assertThat(mean / ids.length).isCloseTo(0.5, within(0.005));
  }

  /** {@link Jitter#expired} is {@code age >= ttl(id)}, also where it skips the hash. */
  @Test
  void expiredIsTheAgeReachingTheIdsTtl() {
    Random r = new Random(11);
    for (int k = 0; k < 100_000; k++) {
      long id = r.nextLong();
      long ttl = 1 + r.nextInt(1 << 30);
      long age = r.nextInt(3) == 0 ? Jitter.ttl(id, ttl) + r.nextInt(3) - 1 : r.nextLong(2 * ttl);
      assertThat(Jitter.expired(id, age, ttl))
          .as("id %d, ttl %d, age %d", id, ttl, age)
          .isEqualTo(age >= Jitter.ttl(id, ttl));
    }
  }

  @Test
  void tinyAndHugeTtlsStayInRange() {
    for (long ttl : new long[] {1, 3, 4, 7, 1_000, Long.MAX_VALUE / 2, Long.MAX_VALUE}) {
      for (long id = -50; id < 50; id++) {
        long t = Jitter.ttl(id, ttl);
        assertThat(t).as("ttl %d, id %d", ttl, id).isLessThanOrEqualTo(ttl);
        assertThat(t).as("ttl %d, id %d", ttl, id).isGreaterThanOrEqualTo(ttl - ttl / 4);
        assertThat(t).isPositive();
      }
    }
  }
}
