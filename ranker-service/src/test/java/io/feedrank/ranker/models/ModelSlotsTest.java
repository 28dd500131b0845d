package io.feedrank.ranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.Scorer;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelSlotsTest {

  static final class CountingScorer implements Scorer {
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public float[] score(Batch batch) {
      return new float[batch.rows()];
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  static ServingModel model(String version, Scorer s) {
    return new ServingModel("m", version, "mlp", 1, Instant.EPOCH, s);
  }

  @Test
  void aSwappedOutModelClosesOnlyAfterItsLastRequestAndExactlyOnce() {
    ModelSlots slots = new ModelSlots(0);
    CountingScorer v1 = new CountingScorer();
    CountingScorer v2 = new CountingScorer();
    slots.install(ModelSlots.Variant.PRODUCTION, model("v1", v1));
    ModelSlots.Lease inFlight = slots.lease(5).orElseThrow();
    slots.install(ModelSlots.Variant.PRODUCTION, model("v2", v2));
    assertThat(v1.closes).hasValue(0); // a request still uses it
    try (ModelSlots.Lease next = slots.lease(5).orElseThrow()) {
      assertThat(next.model().version()).isEqualTo("v2");
    }
    inFlight.close();
    assertThat(v1.closes).hasValue(1);
    slots.clear();
    assertThat(v2.closes).hasValue(1);
    assertThat(slots.lease(5)).isEmpty();
  }

  /** A load that ends after shutdown cleared the slots: its model is closed, not served. */
  @Test
  void aModelInstalledAfterClearIsClosedAtOnce() {
    ModelSlots slots = new ModelSlots(0);
    slots.clear();
    CountingScorer late = new CountingScorer();
    slots.install(ModelSlots.Variant.PRODUCTION, model("late", late));
    assertThat(late.closes).hasValue(1);
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION)).isNull();
    assertThat(slots.lease(5)).isEmpty();
  }

  @Test
  void theStagingShareIsAStableFractionOfUsers() {
    int in = 0;
    for (long u = 0; u < 100_000; u++) {
      boolean a = ModelSlots.inStagingShare(u, 0.2);
      assertThat(ModelSlots.inStagingShare(u, 0.2)).isEqualTo(a);
      if (a) {
        in++;
        assertThat(ModelSlots.inStagingShare(u, 0.3))
            .as("growing the share keeps users in")
            .isTrue();
      }
    }
    // binomial(100000, 0.2): sd = 126; 5 sd either side
    assertThat(in).isBetween(20_000 - 632, 20_000 + 632);
  }

  /**
   * The user's place in [0, 1), computed here in Python's integers from the mix's definition
   * (multiply by 0x9E3779B97F4A7C15, xor-shift 32, multiply by 0xD6E8FEB86659FD93, xor-shift 32,
   * top 53 bits): a user's variant is the same across releases and replicas, and a change to the
   * mix that reassigns users fails here.
   */
  @ParameterizedTest
  @CsvSource({
    "1, 0.09368192744822568",
    "7, 0.2228611489243456",
    "42, 0.8644853762220411",
    "123456789, 0.36599190302426343",
    "9223372036854775807, 0.42355488709008127"
  })
  void aUsersPlaceInTheShareIsFixedByTheMix(long user, double place) {
    assertThat(ModelSlots.inStagingShare(user, place)).isFalse();
    assertThat(ModelSlots.inStagingShare(user, Math.nextUp(place))).isTrue();
  }

  @Test
  void usersOfTheShareGetStagingWhileThereIsOne() {
    ModelSlots slots = new ModelSlots(0.5);
    slots.install(ModelSlots.Variant.PRODUCTION, model("p", new CountingScorer()));
    long stagingUser = 0;
    while (!ModelSlots.inStagingShare(stagingUser, 0.5)) {
      stagingUser++;
    }
    try (ModelSlots.Lease l = slots.lease(stagingUser).orElseThrow()) {
      assertThat(l.variant()).isEqualTo(ModelSlots.Variant.PRODUCTION); // no staging model yet
    }
    slots.install(ModelSlots.Variant.STAGING, model("s", new CountingScorer()));
    try (ModelSlots.Lease l = slots.lease(stagingUser).orElseThrow()) {
      assertThat(l.variant()).isEqualTo(ModelSlots.Variant.STAGING);
      assertThat(l.model().version()).isEqualTo("s");
    }
  }
}
