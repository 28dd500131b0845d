package io.feedrank.ranker.features;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;

/**
 * The bounded Caffeine cache of feature entries by id, read through a direct-mapped table of the
 * entries it holds: a request reads its hundreds of candidates in one array load and one entry load
 * each, where Caffeine boxes the id, walks its hash table and records the read: a whole
 * 100-candidate lookup costs a third of what its Caffeine reads alone did ({@code ./feedrank bench
 * ranker-parts}: 7.6 against 23.1 µs).
 *
 * <p>The table holds at most one entry per slot, the newest {@link #put} for its id (a slot keeps
 * the entry with the later fetch time, so a racing put of an older read cannot hide a newer one); a
 * slot whose id differs, or whose entry is older than the stale TTL, sends the read to Caffeine,
 * which remains the bound: what it evicts (size, expiry) is cleared from the table. Caffeine sees
 * the reads the table misses, not those it serves, so its eviction policy judges from fewer reads;
 * with the working set inside the bound nothing is evicted.
 */
final class EntryCache {
  private static final long MIX = 0x9E3779B97F4A7C15L;
  private static final int MAX_SLOTS = 1 << 22;

  private final AtomicReferenceArray<CachingFeatureStore.Entry> table;
  private final int shift;
  private final long staleNanos;
  private final Cache<Long, CachingFeatureStore.Entry> cache;

  /** Up to {@code maxEntries} entries, each at most {@code stale} old, on the system's clock. */
  EntryCache(int maxEntries, Duration stale) {
    this(maxEntries, stale, System::nanoTime);
  }

  /**
   * Up to {@code maxEntries} entries, each at most {@code stale} old; {@code nanoClock} is the
   * clock of the entries' fetch times, and Caffeine's expiry runs on it too.
   */
  EntryCache(int maxEntries, Duration stale, LongSupplier nanoClock) {
    int slots = Math.min(MAX_SLOTS, Math.max(64, Integer.highestOneBit(maxEntries) << 2));
    this.table = new AtomicReferenceArray<>(slots);
    this.shift = 64 - Integer.numberOfTrailingZeros(slots);
    this.staleNanos = stale.toNanos();
    this.cache =
        Caffeine.newBuilder()
            .ticker(nanoClock::getAsLong)
            .maximumSize(maxEntries)
            .expireAfterWrite(stale)
            .evictionListener(
                (Long id, CachingFeatureStore.Entry e, RemovalCause cause) -> {
                  if (e != null) {
                    table.compareAndSet(slot(e.id()), e, null);
                  }
                })
            .build();
  }

  /** The entry of {@code id}, or null; {@code now} on the clock of the entries' fetch times. */
  CachingFeatureStore.Entry get(long id, long now) {
    CachingFeatureStore.Entry e = table.get(slot(id));
    if (e != null && e.id() == id && now - e.fetchedNanos() < staleNanos) {
      return e;
    }
    e = cache.getIfPresent(id);
    if (e != null) {
      offer(e);
    }
    return e;
  }

  /** Replaces the entry of its id. */
  void put(CachingFeatureStore.Entry e) {
    cache.put(e.id(), e);
    offer(e);
  }

  /**
   * Records a read of {@code id} from the store at {@code stamp} that gave {@code value}; {@code
   * held} is the entry the reader found before it read, or null. When {@code held} is still the
   * table's entry for {@code id}, holds that very value (an unchanged hash keeps its parsed
   * features) and was written less than half the stale TTL ago, it is renewed in place: no new
   * object, and no reference stored into the long-lived cache, so the collector has nothing to copy
   * or scan for it. Re-reads of unchanged entities every few seconds were most of what G1's young
   * pauses copied and scanned (BENCHMARKS.md, ranker session 32). Otherwise a new entry replaces
   * it, which also restarts Caffeine's expiry: an entry kept fresh by re-reads is written again at
   * least every half stale TTL, so it does not expire under its readers.
   */
  void reread(CachingFeatureStore.Entry held, long id, Object value, long stamp) {
    if (held != null
        && held.value() == value
        && stamp - held.writtenNanos() < staleNanos / 2
        && table.get(slot(id)) == held) {
      held.renew(stamp);
    } else {
      put(new CachingFeatureStore.Entry(id, value, stamp));
    }
  }

  /** Puts {@code e} into its slot unless the slot holds a later read of the same id. */
  private void offer(CachingFeatureStore.Entry e) {
    int s = slot(e.id());
    while (true) {
      CachingFeatureStore.Entry held = table.get(s);
      if (held == e
          || held != null && held.id() == e.id() && held.fetchedNanos() - e.fetchedNanos() > 0) {
        return;
      }
      if (table.compareAndSet(s, held, e)) {
        return;
      }
    }
  }

  private int slot(long id) {
    return (int) ((id * MIX) >>> shift);
  }

  /** The slots of the table (a power of two), for tests. */
  int slots() {
    return table.length();
  }

  /** Runs Caffeine's pending maintenance (evictions), for tests. */
  void cleanUp() {
    cache.cleanUp();
  }
}
