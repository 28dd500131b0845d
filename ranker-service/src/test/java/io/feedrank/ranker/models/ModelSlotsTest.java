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
    ModelSlots.Lease inFlight = slots.lease(5);
    slots.install(ModelSlots.Variant.PRODUCTION, model("v2", v2));
    assertThat(v1.closes).hasValue(0); // a request still uses it
    try (ModelSlots.Lease next = slots.lease(5)) {
      assertThat(next.model().version()).isEqualTo("v2");
    }
    inFlight.close();
    assertThat(v1.closes).hasValue(1);
    slots.clear();
    assertThat(v2.closes).hasValue(1);
    assertThat(slots.lease(5).model()).isNull();
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
    assertThat(slots.lease(5).model()).isNull();
  }

  @Test
  void theStagingShareIsAStableFractionOfUsers() {
    long salt = ModelSlots.salt("m", "s1");
    int in = 0;
    for (long u = 0; u < 100_000; u++) {
      boolean a = ModelSlots.inStagingShare(u, salt, 0.2);
      assertThat(ModelSlots.inStagingShare(u, salt, 0.2)).isEqualTo(a);
      if (a) {
        in++;
        assertThat(ModelSlots.inStagingShare(u, salt, 0.3))
            .as("growing the share keeps users in")
            .isTrue();
      }
    }
    // binomial(100000, 0.2): sd = 126; 5 sd either side
    assertThat(in).isBetween(20_000 - 632, 20_000 + 632);
  }

  /**
   * Two staging versions at a share of 0.2 each: were their users drawn independently, 0.2 · 0.2 =
   * 4% of users would be in both, binomial(100000, 0.04), sd 62; 5 sd either side. An unsalted hash
   * puts the same 20% in every experiment.
   */
  @Test
  void eachStagingVersionDrawsItsOwnUsers() {
    long s1 = ModelSlots.salt("m", "s1");
    long s2 = ModelSlots.salt("m", "s2");
    long other = ModelSlots.salt("another-model", "s1");
    int both = 0;
    int otherModel = 0;
    for (long u = 0; u < 100_000; u++) {
      boolean in1 = ModelSlots.inStagingShare(u, s1, 0.2);
      both += in1 && ModelSlots.inStagingShare(u, s2, 0.2) ? 1 : 0;
      otherModel += in1 && ModelSlots.inStagingShare(u, other, 0.2) ? 1 : 0;
    }
    assertThat(both).isBetween(4_000 - 310, 4_000 + 310);
    assertThat(otherModel).isBetween(4_000 - 310, 4_000 + 310);
  }

  /** User 0 was at the bare multiply's fixed point, place 0, in every share however small. */
  @Test
  void userZeroIsInNoTinyShare() {
    for (String version : new String[] {"s1", "s2", "s3"}) {
      assertThat(ModelSlots.inStagingShare(0, ModelSlots.salt("m", version), 1e-9))
          .as(version)
          .isFalse();
    }
  }

  /**
   * The user's place in [0, 1) for staging version s1 of model m, computed here in Python's
   * integers from the mix's definition (salt: 64-bit FNV-1a of the UTF-8 bytes of "m@s1",
   * 0x01E03CA22D01F7D0; z = id + salt + 0x9E3779B97F4A7C15 mod 2^64; xor-shift 30, multiply by
   * 0xBF58476D1CE4E5B9, xor-shift 27, multiply by 0x94D049BB133111EB, xor-shift 31; top 53 bits): a
   * user's variant is the same across releases and replicas, and a change to the mix or the salt
   * that reassigns users fails here.
   */
  @ParameterizedTest
  @CsvSource({
    "0, 0.6016540450379982",
    "1, 0.5412859769998966",
    "7, 0.9838876826434908",
    "42, 0.8093309817591525",
    "123456789, 0.301774437395928",
    "9223372036854775807, 0.7074685809824701",
    "-1, 0.6432301943694753"
  })
  void aUsersPlaceInTheShareIsFixedByTheMix(long user, double place) {
    long salt = ModelSlots.salt("m", "s1");
    assertThat(salt).isEqualTo(0x01E03CA22D01F7D0L);
    assertThat(ModelSlots.inStagingShare(user, salt, place)).isFalse();
    assertThat(ModelSlots.inStagingShare(user, salt, Math.nextUp(place))).isTrue();
  }

  /**
   * A user of the share is assigned to staging as soon as the registry has a STAGING version, and
   * served production, said in the lease, until its model is loaded here; a user outside the share
   * is assigned to production throughout.
   */
  @Test
  void usersOfTheShareAreAssignedToStagingAndServedItOnceLoaded() {
    ModelSlots slots = new ModelSlots(0.5);
    slots.install(ModelSlots.Variant.PRODUCTION, model("p", new CountingScorer()));
    long salt = ModelSlots.salt("m", "s");
    long stagingUser = 0;
    while (!ModelSlots.inStagingShare(stagingUser, salt, 0.5)) {
      stagingUser++;
    }
    long productionUser = 0;
    while (ModelSlots.inStagingShare(productionUser, salt, 0.5)) {
      productionUser++;
    }
    try (ModelSlots.Lease l = slots.lease(stagingUser)) {
      // no staging version at all: no experiment, nobody assigned to it
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.PRODUCTION);
      assertThat(l.unserved()).isFalse();
    }
    slots.expectStaging("m", "s"); // in the registry, loading or refused here
    try (ModelSlots.Lease l = slots.lease(stagingUser)) {
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.STAGING);
      assertThat(l.variant()).isEqualTo(ModelSlots.Variant.PRODUCTION);
      assertThat(l.model().version()).isEqualTo("p");
      assertThat(l.unserved()).isTrue();
    }
    slots.install(ModelSlots.Variant.STAGING, model("s", new CountingScorer()));
    try (ModelSlots.Lease l = slots.lease(stagingUser)) {
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.STAGING);
      assertThat(l.variant()).isEqualTo(ModelSlots.Variant.STAGING);
      assertThat(l.model().version()).isEqualTo("s");
      assertThat(l.unserved()).isFalse();
    }
    try (ModelSlots.Lease l = slots.lease(productionUser)) {
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.PRODUCTION);
      assertThat(l.model().version()).isEqualTo("p");
    }
    slots.install(ModelSlots.Variant.PRODUCTION, null);
    try (ModelSlots.Lease l = slots.lease(productionUser)) {
      assertThat(l.model()).isNull();
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.PRODUCTION);
    }
    slots.clear();
  }
}
