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

  @Test
  void aReReadOfTheSameValueRenewsTheEntryAndAnotherValueReplacesIt() {
    long[] now = {1_000};
    EntryCache c = new EntryCache(100, MINUTE, () -> now[0]);
    String value = "parsed";
    c.put(new CachingFeatureStore.Entry(42, value, 1_000));
    CachingFeatureStore.Entry held = c.get(42, 1_000);
    held.refreshQueued = true; // named to the background refresh

    now[0] = 2_000;
    c.reread(held, 42, value, 2_000);
    CachingFeatureStore.Entry renewed = c.get(42, 2_000);
    assertThat(renewed).isSameAs(held);
    assertThat(renewed.fetchedNanos()).isEqualTo(2_000);
    assertThat(renewed.writtenNanos()).isEqualTo(1_000);
    assertThat(renewed.refreshQueued).as("can be named again").isFalse();

    // a racing re-read that read before the last one does not move the time back
    c.reread(held, 42, value, 1_500);
    assertThat(c.get(42, 2_000).fetchedNanos()).isEqualTo(2_000);

    // an equal value that is not the same object: a new parse, so a new entry
    now[0] = 3_000;
    String changed = new String(value);
    c.reread(held, 42, changed, 3_000);
    CachingFeatureStore.Entry replaced = c.get(42, 3_000);
    assertThat(replaced).isNotSameAs(held);
    assertThat(replaced.value()).isSameAs(changed);
    assertThat(replaced.fetchedNanos()).isEqualTo(3_000);
    assertThat(replaced.writtenNanos()).isEqualTo(3_000);

    // the reader found nothing (evicted, or never read): a new entry
    c.reread(null, 43, value, 3_000);
    assertThat(c.get(43, 3_000).value()).isSameAs(value);
  }

  /**
   * Caffeine expires an entry the stale TTL after it was written, however often it was renewed; so
   * an entry kept fresh by re-reads is written again each half stale TTL, and one that is not
   * re-read any more still expires.
   */
  @Test
  void anEntryKeptFreshByReReadsOutlivesTheStaleTtlAndOneLeftAloneExpires() {
    long stale = 1_000;
    long[] now = {0};
    EntryCache c = new EntryCache(100, Duration.ofNanos(stale), () -> now[0]);
    String value = "parsed";
    c.put(new CachingFeatureStore.Entry(42, value, 0));
    c.put(new CachingFeatureStore.Entry(43, value, 0));
    java.util.Set<CachingFeatureStore.Entry> entries =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (now[0] = 100; now[0] <= 10 * stale; now[0] += 100) {
      c.cleanUp(); // Caffeine's expiry, as its maintenance would run it
      CachingFeatureStore.Entry e = c.get(42, now[0]);
      assertThat(e).as("served at %d", now[0]).isNotNull();
      entries.add(e);
      c.reread(e, 42, value, now[0]);
    }
    // written at 0, then again once each entry was half the stale TTL old: at 500, 1,000, …
    assertThat(entries).hasSize(20);
    assertThat(c.get(43, now[0])).as("never re-read: expired").isNull();

    long renewedUntil = now[0] - 100;
    now[0] = renewedUntil + stale;
    c.cleanUp();
    assertThat(c.get(42, now[0])).as("not re-read for the stale TTL: expired").isNull();
  }
}
