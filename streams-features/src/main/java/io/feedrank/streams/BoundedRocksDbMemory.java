package io.feedrank.streams;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the native memory of every RocksDB store of the process together. Kafka Streams gives each
 * store instance its own 50 MB block cache and up to three 16 MB memtables, outside the JVM heap
 * and its limits: an instance holding 24 tasks' user and item stores, the stream-time stores and
 * the global tables could take ~7 GB, and a pod's memory limit ends that with an OOM kill rather
 * than an error. Here every store shares one block cache of {@code rocksdb.memory.bytes}, and their
 * memtables are charged to it (a write-buffer manager with half of it), with index and filter
 * blocks in the cache too, so the bound holds however many stores the instance is given. The cache
 * is not strict: RocksDB may go over it briefly rather than fail a read.
 *
 * <p>Kafka Streams creates a setter per store and passes the app's configuration; the cache and the
 * manager are kept per size for the life of the process (the stores come and go with rebalances;
 * closing them under a live store would crash it).
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {
  /** The Kafka Streams property the budget reaches the setter through, in bytes. */
  public static final String BYTES_CONFIG = "feedrank.rocksdb.memory.bytes";

  /** Index and filter blocks are cached at high priority, in this share of the cache. */
  private static final double HIGH_PRIORITY_SHARE = 0.1;

  private static final Map<Long, Shared> SHARED = new ConcurrentHashMap<>();

  /** The block cache every store uses, and the manager charging their memtables to it. */
  record Shared(Cache cache, WriteBufferManager writeBuffers) {}

  /** The process's cache and write-buffer manager for a budget of {@code bytes}. */
  static Shared shared(long bytes) {
    return SHARED.computeIfAbsent(
        bytes,
        b -> {
          Cache cache = new LRUCache(b, -1, false, HIGH_PRIORITY_SHARE);
          return new Shared(cache, new WriteBufferManager(b / 2, cache));
        });
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Object bytes = configs.get(BYTES_CONFIG);
    if (bytes == null) {
      throw new IllegalStateException(
          BYTES_CONFIG + " is missing from the Kafka Streams configuration");
    }
    configure(options, shared(Long.parseLong(bytes.toString())));
  }

  /** Points {@code options} at the shared cache and write-buffer manager. */
  static void configure(Options options, Shared shared) {
    // Kafka Streams sets a block-based table config of its own (it reads the cache back from it
    // for the block-cache metrics) before it calls the setter
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(shared.cache());
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setTableFormatConfig(table);
    options.setWriteBufferManager(shared.writeBuffers());
  }

  @Override
  public void close(String storeName, Options options) {
    // the cache and the manager are shared by every store of the process, and outlive this one
  }
}
