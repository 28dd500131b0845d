package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The direct-mapped table in front of Caffeine: never a wrong id, an old read or an evicted one.
 */
class EntryCacheTest {
  private static final Duration MINUTE = Duration.ofMinutes(1);

  private static CachingFeatureStore.Entry entry(long id, long fetchedNanos) {
    return new CachingFeatureStore.Entry(id, "v" + id + "@" + fetchedNanos, fetchedNanos);
  }

  @Test
  void everyIdGetsItsOwnEntryWhenIdsShareSlots() {
    EntryCache c = new EntryCache(1_000, MINUTE);
    // 1,000 ids in 2,048 slots: about 1,000² / (2 × 2,048) = 244 pairs of them share a slot
    assertThat(c.slots()).isEqualTo(2_048);
    for (long id = 0; id < 1_000; id++) {
      c.put(entry(id * 7_919, 5));
    }
    c.cleanUp();
    for (long id = 0; id < 1_000; id++) {
      CachingFeatureStore.Entry e = c.get(id * 7_919, 10);
      assertThat(e).isNotNull();
      assertThat(e.id()).isEqualTo(id * 7_919);
      assertThat(e.value()).isEqualTo("v" + id * 7_919 + "@5");
    }
    assertThat(c.get(1, 10)).as("an id never put").isNull();
  }

  @Test
  void aPutReplacesTheEntryAndAnOlderReadDoesNotHideANewerOne() {
    EntryCache c = new EntryCache(100, MINUTE);
    c.put(entry(42, 100));
    assertThat(c.get(42, 150).fetchedNanos()).isEqualTo(100);
    c.put(entry(42, 200));
    assertThat(c.get(42, 250).fetchedNanos()).isEqualTo(200);
    // a refresh that read before the request's read but lands after it
    c.put(entry(42, 180));
    assertThat(c.get(42, 250).fetchedNanos()).isEqualTo(200);
  }

  @Test
  void whatCaffeineEvictsForSizeIsNotServedFromTheTable() {
    EntryCache c = new EntryCache(10, MINUTE);
    for (long id = 1; id <= 300; id++) {
      c.put(entry(id, 1));
    }
    c.cleanUp();
    int served = 0;
    for (long id = 1; id <= 300; id++) {
      if (c.get(id, 2) != null) {
        served++;
      }
    }
    // without the eviction listener the table would serve about 63: its 64 slots hold the last
    // put of each
    assertThat(served).isLessThanOrEqualTo(10);
  }

  @Test
  void anEntryPastTheStaleTtlIsNotServed() {
    EntryCache c = new EntryCache(100, Duration.ofMillis(50));
    c.put(entry(7, System.nanoTime()));
    assertThat(c.get(7, System.nanoTime())).isNotNull();
    // a table hit never reaches Caffeine, so without the table's own age check its entry would
    // be served forever
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> c.get(7, System.nanoTime()) == null);
  }
}
