package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Several real RocksDB databases, opened with Kafka Streams' per-store defaults (a 50 MB block
 * cache of its own, 16 MB memtables, three of them), with and without {@link BoundedRocksDbMemory}:
 * the memory RocksDB itself reports for their memtables and block caches stays within the budget
 * only with it. Each side writes, then reads back, more than the budget.
 */
class BoundedRocksDbMemoryTest {
  static final long MIB = 1024 * 1024;

  /** Four stores, as a small instance holds (it holds dozens with 24 partitions). */
  static final int STORES = 4;

  /** Per store: under Kafka Streams' 16 MB write buffer, so its defaults never flush. */
  static final int VALUES_PER_STORE = 12_000;

  static final int VALUE_BYTES = 1024; // random: incompressible

  @TempDir Path dir;

  static {
    RocksDB.loadLibrary();
  }

  @Test
  void memtablesAndBlockCacheStayWithinTheBudgetTogether() throws Exception {
    long budget = 24 * MIB;
    // a budget of its own: the shared objects live per size for the life of the process
    BoundedRocksDbMemory.Shared shared = BoundedRocksDbMemory.shared(budget + 1);
    Measured bounded =
        writeAndRead(
            "bounded",
            options -> {
              BoundedRocksDbMemory.configure(options, shared);
              return shared.cache();
            });
    Measured defaults = writeAndRead("defaults", options -> kafkaStreamsCache(options));

    // 4 x 12,000 x 1 KB = ~47 MiB written, held in memtables by Kafka Streams' defaults; half the
    // budget at most with the write-buffer manager (which flushes the largest memtables)
    assertThat(defaults.memtables()).isGreaterThan(40 * MIB);
    assertThat(bounded.memtables()).isLessThanOrEqualTo(budget / 2 + 2 * MIB);
    // reading every value back: each default store's cache takes its whole database (~12 MiB),
    // the shared one stays at the budget (not strict: a little over while blocks are pinned)
    assertThat(defaults.blockCache()).isGreaterThan(40 * MIB);
    assertThat(bounded.blockCache()).isLessThanOrEqualTo(budget + budget / 10);
  }

  /** What RocksDB reports after the writes (memtables) and after reading all back (caches). */
  record Measured(long memtables, long blockCache) {}

  /**
   * Writes {@link #VALUES_PER_STORE} values into each of {@link #STORES} databases opened with
   * {@code configure} (which returns the block caches they use, one per store or one shared), waits
   * for the flushes the writes started, sums the memtables; then flushes, reads every value back
   * and sums the caches' usage.
   */
  private Measured writeAndRead(String name, Function<Options, Cache> configure)
      throws RocksDBException {
    List<Options> options = new ArrayList<>();
    List<RocksDB> dbs = new ArrayList<>();
    List<Cache> caches = new ArrayList<>();
    try {
      for (int s = 0; s < STORES; s++) {
        Options o = new Options().setCreateIfMissing(true);
        options.add(o);
        // as Kafka Streams' RocksDBStore before it calls the setter
        o.setTableFormatConfig(new BlockBasedTableConfig());
        o.setWriteBufferSize(16 * MIB);
        o.setMaxWriteBufferNumber(3);
        Cache cache = configure.apply(o);
        if (!caches.contains(cache)) {
          caches.add(cache);
        }
        dbs.add(RocksDB.open(o, dir.resolve(name + s).toString()));
      }
      Random random = new Random(42);
      byte[] value = new byte[VALUE_BYTES];
      for (RocksDB db : dbs) {
        for (int i = 0; i < VALUES_PER_STORE; i++) {
          random.nextBytes(value);
          db.put(Long.toString(i).getBytes(), value);
        }
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> sum(dbs, "rocksdb.num-running-flushes") == 0);
      long memtables = sum(dbs, "rocksdb.size-all-mem-tables");

      try (FlushOptions wait = new FlushOptions().setWaitForFlush(true)) {
        for (RocksDB db : dbs) {
          db.flush(wait);
        }
      }
      long read = 0;
      for (RocksDB db : dbs) {
        try (RocksIterator it = db.newIterator()) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            read += it.value().length;
          }
        }
      }
      assertThat(read).isEqualTo((long) STORES * VALUES_PER_STORE * VALUE_BYTES);
      long blockCache = 0;
      for (Cache c : caches) {
        blockCache += c.getUsage();
      }
      return new Measured(memtables, blockCache);
    } finally {
      dbs.forEach(RocksDB::close);
      options.forEach(Options::close);
      if (caches.size() > 1) {
        caches.forEach(Cache::close); // the defaults' own; the shared one lives on
      }
    }
  }

  /** Kafka Streams' default: a 50 MB block cache per store. */
  private static Cache kafkaStreamsCache(Options options) {
    Cache cache = new LRUCache(50 * MIB);
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(cache);
    options.setTableFormatConfig(table);
    return cache;
  }

  private static long sum(List<RocksDB> dbs, String property) throws RocksDBException {
    long sum = 0;
    for (RocksDB db : dbs) {
      sum += db.getLongProperty(property);
    }
    return sum;
  }
}
