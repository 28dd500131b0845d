package io.feedrank.features.decay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DecayedCounterTest {
  static final long HOUR = 3_600_000L;

  record Event(long t, double x) {}

  /** The definition, summed directly: Σ x_i · 2^(-(T - t_i)/h). */
  static double closedForm(List<Event> events, long at, long h) {
    double sum = 0;
    for (Event e : events) {
      sum += e.x() * Math.pow(2.0, -(double) (at - e.t()) / h);
    }
    return sum;
  }

  static List<Event> randomEvents(long seed, int n) {
    Random r = new Random(seed);
    List<Event> events = new ArrayList<>();
    long t = 1_763_000_000_000L;
    for (int i = 0; i < n; i++) {
      t += (long) (r.nextDouble() * 120_000);
      events.add(new Event(t, r.nextInt(3) == 0 ? r.nextDouble() * 60 : 1.0));
    }
    return events;
  }

  static DecayedCounter fold(List<Event> events, long h) {
    DecayedCounter c = DecayedCounter.EMPTY;
    for (Event e : events) {
      c = c.add(e.x(), e.t(), h);
    }
    return c;
  }

  @Test
  void halvesAfterOneHalfLife() {
    DecayedCounter c = DecayedCounter.EMPTY.add(8.0, 0, HOUR);
    assertThat(c.valueAt(0, HOUR)).isEqualTo(8.0);
    assertThat(c.valueAt(HOUR, HOUR)).isEqualTo(4.0);
    assertThat(c.valueAt(3 * HOUR, HOUR)).isEqualTo(1.0);
    // 8 at 0 and 4 at 1 h: at 2 h, 8/4 + 4/2 = 4
    assertThat(c.add(4.0, HOUR, HOUR).valueAt(2 * HOUR, HOUR)).isEqualTo(4.0);
  }

  @Test
  void equalsTheClosedFormSumForInOrderEvents() {
    for (HalfLife h : HalfLife.values()) {
      List<Event> events = randomEvents(1, 5_000);
      long at = events.get(events.size() - 1).t() + 17 * 60_000;
      double expected = closedForm(events, at, h.millis());
      assertThat(fold(events, h.millis()).valueAt(at, h.millis()))
          .isCloseTo(expected, within(1e-12 * expected));
    }
  }

  @Test
  void doesNotDependOnArrivalOrder() {
    List<Event> events = randomEvents(2, 5_000);
    long at = events.get(events.size() - 1).t();
    double expected = closedForm(events, at, HOUR);
    for (int seed = 0; seed < 5; seed++) {
      List<Event> shuffled = new ArrayList<>(events);
      Collections.shuffle(shuffled, new Random(seed));
      assertThat(fold(shuffled, HOUR).valueAt(at, HOUR))
          .isCloseTo(expected, within(1e-12 * expected));
    }
  }

  @Test
  void mergingPartialCountersGivesTheCounterOverAllEvents() {
    List<Event> events = randomEvents(3, 2_000);
    List<Event> a = new ArrayList<>();
    List<Event> b = new ArrayList<>();
    Random r = new Random(9);
    events.forEach(e -> (r.nextBoolean() ? a : b).add(e));
    long at = events.get(events.size() - 1).t() + HOUR;
    double expected = closedForm(events, at, HalfLife.ONE_DAY.millis());
    long h = HalfLife.ONE_DAY.millis();
    assertThat(fold(a, h).merge(fold(b, h), h).valueAt(at, h))
        .isCloseTo(expected, within(1e-12 * expected));
    assertThat(fold(a, h).merge(DecayedCounter.EMPTY, h)).isEqualTo(fold(a, h));
    assertThat(DecayedCounter.EMPTY.merge(fold(b, h), h)).isEqualTo(fold(b, h));
  }

  @Test
  void refusesToReadBeforeItsLatestEventAndRejectsBadArguments() {
    DecayedCounter c = DecayedCounter.EMPTY.add(1, 10 * HOUR, HOUR);
    assertThatThrownBy(() -> c.valueAt(9 * HOUR, HOUR))
        .hasMessageContaining("before its latest event");
    assertThatThrownBy(() -> DecayedCounter.decayFactor(1, 0))
        .hasMessageContaining("halfLifeMillis must be > 0");
    assertThatThrownBy(() -> DecayedCounter.decayFactor(-1, HOUR))
        .hasMessageContaining("gapMillis must be >= 0");
    assertThat(DecayedCounter.EMPTY.valueAt(0, HOUR)).isZero();
  }

  @Test
  void aVectorReadWholeEqualsItsSlotsReadOneByOne() {
    // valuesAt shares one decay factor among the slots of a half-life; valueAt computes each
    long[] halfLives = {HOUR, 24 * HOUR, HOUR, 7 * 24 * HOUR, 24 * HOUR, HOUR, 7 * 24 * HOUR, 5};
    Random r = new Random(3);
    DecayedVector empty = new DecayedVector(halfLives);
    assertThat(empty.valuesAt(1_763_000_000_000L)).containsOnly(0.0);
    double[] into = new double[halfLives.length];
    Arrays.fill(into, Double.NaN);
    assertThat(empty.valuesAt(1_763_000_000_000L, into)).containsOnly(0.0);
    for (int trial = 0; trial < 200; trial++) {
      double[] values = new double[halfLives.length];
      for (int i = 0; i < values.length; i++) {
        values[i] = r.nextDouble() * 1000;
      }
      long ref = 1_763_000_000_000L + r.nextInt(1_000_000_000);
      DecayedVector v = new DecayedVector(halfLives, values, ref);
      // before the reference time, at it, and up to a month after
      long at = ref + (long) ((r.nextDouble() - 0.1) * 30 * 24 * HOUR);
      double[] whole = v.valuesAt(at);
      // written into a caller's array that holds the previous trial's values (or NaN): the same
      double[] intoBefore = into.clone();
      assertThat(v.valuesAt(at, into)).isSameAs(into);
      for (int i = 0; i < halfLives.length; i++) {
        assertThat(whole[i]).as("slot %d", i).isEqualTo(v.valueAt(i, at));
        assertThat(into[i]).as("slot %d written over %s", i, intoBefore[i]).isEqualTo(whole[i]);
        // and both are the definition: the stored value decayed over the gap
        assertThat(whole[i])
            .isCloseTo(
                values[i] * Math.pow(0.5, Math.max(0, at - ref) / (double) halfLives[i]),
                within(1e-9 * values[i]));
      }
    }
  }

  @Test
  void smoothedRateShrinksTowardThePrior() {
    assertThat(SmoothedRate.of(0, 0, 0.1, 10)).isEqualTo(0.1);
    assertThat(SmoothedRate.of(3, 10, 0.1, 10)).isCloseTo(0.2, within(1e-15)); // (3 + 1) / 20
    assertThat(SmoothedRate.of(5_000, 10_000, 0.1, 10)).isCloseTo(5_001.0 / 10_010, within(1e-15));
    assertThatThrownBy(() -> SmoothedRate.of(-1, 1, 0.1, 1)).hasMessageContaining(">= 0");
    assertThatThrownBy(() -> SmoothedRate.of(1, 1, 1.5, 1)).hasMessageContaining("prior");
    assertThatThrownBy(() -> SmoothedRate.of(1, 1, 0.5, 0)).hasMessageContaining("strength");
  }
}
