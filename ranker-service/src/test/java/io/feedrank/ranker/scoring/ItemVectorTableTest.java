package io.feedrank.ranker.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ItemVectorTableTest {
  private static final int DIM = 8;

  /** The vector {@code [id + v, id + v + 1, …]}: its elements tell the id and version it holds. */
  private static float[] vector(long id, int v) {
    float[] x = new float[DIM];
    for (int k = 0; k < DIM; k++) {
      x[k] = id * 1000 + v + k;
    }
    return x;
  }

  @Test
  void aVectorIsServedUntilItsDeadlineAndRevalidatedOnlyWithItsFingerprintWithinItsMaxAge() {
    ItemVectorTable t = new ItemVectorTable(64, DIM);
    float[] out = new float[3 * DIM];
    assertThat(t.copyIfValid(7, 0, out, 0)).isFalse();

    t.put(7, 0xabcL, 100, 600, vector(7, 1), 0);
    assertThat(t.copyIfValid(7, 599, out, DIM)).isTrue();
    assertThat(java.util.Arrays.copyOfRange(out, DIM, 2 * DIM)).containsExactly(vector(7, 1));
    assertThat(t.copyIfValid(7, 600, out, 0)).as("at its deadline").isFalse();
    assertThat(t.copyIfValid(8, 0, out, 0)).as("another id").isFalse();

    // features read again: the same fingerprint extends the deadline, up to computed + max age
    assertThat(t.revalidate(7, 0xabdL, 700, 1_000, 1_200, out, 0)).as("other features").isFalse();
    assertThat(t.revalidate(7, 0xabcL, 1_100, 1_000, 1_700, out, 0)).as("too old").isFalse();
    assertThat(t.revalidate(7, 0xabcL, 700, 1_000, 1_200, out, 2 * DIM)).isTrue();
    assertThat(java.util.Arrays.copyOfRange(out, 2 * DIM, 3 * DIM)).containsExactly(vector(7, 1));
    assertThat(t.copyIfValid(7, 1_050, out, 0)).as("extended, capped at 100 + 1000").isTrue();
    assertThat(t.copyIfValid(7, 1_100, out, 0)).isFalse();

    // a new vector for the same id replaces the old in place
    t.put(7, 0xeeeL, 2_000, 2_500, vector(7, 2), 0);
    assertThat(t.copyIfValid(7, 2_100, out, 0)).isTrue();
    assertThat(java.util.Arrays.copyOf(out, DIM)).containsExactly(vector(7, 2));
    assertThat(t.revalidate(7, 0xabcL, 2_100, 1_000, 3_000, out, 0)).isFalse();
  }

  @Test
  void aFullSetGivesUpTheSlotWithTheEarliestDeadline() {
    ItemVectorTable t = new ItemVectorTable(4, DIM); // one set of four ways: every id collides
    assertThat(t.slots()).isEqualTo(ItemVectorTable.WAYS);
    float[] out = new float[DIM];
    for (int id = 1; id <= 4; id++) {
      t.put(id, id, 0, 1_000 + id * 10L, vector(id, 0), 0);
    }
    t.put(3, 3, 0, 5_000, vector(3, 1), 0); // 3 now has the latest deadline; 1 the earliest
    t.put(5, 5, 0, 2_000, vector(5, 0), 0);
    assertThat(t.copyIfValid(1, 0, out, 0)).as("evicted").isFalse();
    for (int id : new int[] {2, 3, 4, 5}) {
      assertThat(t.copyIfValid(id, 0, out, 0)).as("id %d", id).isTrue();
      assertThat(out).containsExactly(vector(id, id == 3 ? 1 : 0));
    }
  }

  @Test
  void holdsAboutAsManyVectorsAsAskedAndSpreadsIds() {
    ItemVectorTable t = new ItemVectorTable(10_000, DIM);
    assertThat(t.slots()).isBetween(5_000, 10_000);
    float[] out = new float[DIM];
    int n = t.slots() / 2;
    for (long id = 0; id < n; id++) {
      t.put(id * 7919, id, 0, Long.MAX_VALUE, vector(id, 0), 0);
    }
    int held = 0;
    for (long id = 0; id < n; id++) {
      if (t.copyIfValid(id * 7919, 0, out, 0)) {
        held++;
        assertThat(out).containsExactly(vector(id, 0));
      }
    }
    // at half load, sets of four overflow rarely when ids spread evenly over them: with Poisson(2)
    // ids per set, about 3.7% of them find their set full
    assertThat(held).isGreaterThan(n * 90 / 100);
  }

  @Test
  void readersNeverSeeATornVectorWhileWritersReplaceSlots() throws Exception {
    ItemVectorTable t = new ItemVectorTable(8, DIM); // two sets: constant eviction and rewrites
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong served = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        int seed = w;
        tasks.add(
            pool.submit(
                () -> {
                  int v = 0;
                  while (!stop.get()) {
                    long id = (v * 31L + seed) % 24;
                    t.put(id, id, v, Long.MAX_VALUE - v, vector(id, v % 500), 0);
                    v++;
                  }
                }));
      }
      for (int r = 0; r < 2; r++) {
        tasks.add(
            pool.submit(
                () -> {
                  float[] out = new float[DIM];
                  Set<String> bad = new HashSet<>();
                  while (!stop.get()) {
                    for (long id = 0; id < 24; id++) {
                      if (t.copyIfValid(id, 0, out, 0)) {
                        served.incrementAndGet();
                        float base = out[0];
                        long heldId = (long) Math.floor(base / 1000);
                        for (int k = 0; k < DIM; k++) {
                          if (out[k] != base + k || heldId != id) {
                            bad.add(id + ": " + java.util.Arrays.toString(out));
                          }
                        }
                      }
                    }
                  }
                  assertThat(bad).isEmpty();
                }));
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until && served.get() < 200_000) {
        Thread.onSpinWait();
      }
      stop.set(true);
      for (Future<?> f : tasks) {
        f.get(10, TimeUnit.SECONDS); // rethrows a reader's assertion
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(served.get()).isPositive();
  }
}
