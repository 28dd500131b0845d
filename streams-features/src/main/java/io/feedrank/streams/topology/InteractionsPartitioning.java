package io.feedrank.streams.topology;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a user's interactions must be: on the partition Kafka's Java producer picks for the
 * record's key (murmur2 of the key bytes, made positive, modulo the partition count), whose task
 * keeps the user's state. A record elsewhere — from a librdkafka client with its default {@code
 * consistent_random} partitioner (CRC32), from Sarama (FNV-1a), or sent to an explicit partition —
 * would be counted in another task's state of the same user, and both tasks write the user's Redis
 * hash, the later {@code _ts} winning: {@link ValidateProcessor} dead-letters it instead.
 *
 * <p>The count is the one the application's state is partitioned by: the topic's when it is first
 * read, at the start, and kept for the life of the app. Partitions added while the app runs stop it
 * at its next rebalance (Kafka Streams 4.3 fails its stream threads on internal topics with fewer
 * partitions), and the start after is refused ({@code PartitionCounts}). Until that rebalance a
 * producer that has seen the new count places users by it; so before a record is dead-lettered the
 * topic's count is read again (at most once per {@code recheckMillis}, the last count kept in
 * between), and where it has grown the record is refused with an {@link IllegalStateException}: its
 * stream thread fails and is replaced, to fail again, as at that rebalance. A grown topic is not
 * read again.
 *
 * <p>Records written before the topic last grew were placed by an earlier count: an application
 * started since, which reads them, is given the earlier counts ({@code
 * interactions.earlier.partition.counts}) and takes a record placed by any of them. Shared by the
 * stream threads of an app.
 *
 * <p>It runs for every interactions record, so a record is judged without a lock: the counts are
 * volatile, and a read of the topic's count (a metadata request of up to {@code
 * PartitionCounts.READ_TIMEOUT}) is made by one stream thread at a time, outside any lock, while
 * the others judge their records by the last count read. A read that fails keeps that count, and
 * the next is made {@code recheckMillis} later, as after one that succeeds.
 */
public final class InteractionsPartitioning {
  private static final Logger log = LoggerFactory.getLogger(InteractionsPartitioning.class);

  private final IntSupplier topicPartitions;
  private final List<Integer> earlierCounts;
  private final long recheckMillis;
  private final LongSupplier clock;
  private volatile int partitions;
  private volatile int current;

  /** When the last read of the count began: a compare-and-set on it claims the next. */
  private final AtomicLong readAtMillis = new AtomicLong();

  /**
   * @param topicPartitions reads the partition count of interactions now, 0 when it does not exist
   *     (it may throw: at the first read the stream thread fails and is replaced, and the record
   *     read again; at a later one the last count stands)
   * @param earlierCounts counts the topic had before, by which the records written then were placed
   * @param recheckMillis how long a count read again stands before another read
   * @param clock milliseconds, for {@code recheckMillis}
   */
  public InteractionsPartitioning(
      IntSupplier topicPartitions,
      List<Integer> earlierCounts,
      long recheckMillis,
      LongSupplier clock) {
    this.topicPartitions = topicPartitions;
    this.earlierCounts = List.copyOf(earlierCounts);
    this.recheckMillis = recheckMillis;
    this.clock = clock;
  }

  /**
   * A topic of {@code partitions} partitions that never changes: TopologyTestDriver reads every
   * record from partition 0, as from a topic of one.
   */
  public static InteractionsPartitioning fixed(int partitions) {
    return new InteractionsPartitioning(() -> partitions, List.of(), Long.MAX_VALUE, () -> 0L);
  }

  /** The partition Kafka's Java producer picks for {@code key} among {@code partitions}. */
  public static int javaPartition(byte[] key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key)) % partitions;
  }

  /**
   * The count the app's state is partitioned by: read at the start, before the app runs, or at the
   * first record where the topic did not exist then.
   *
   * @return 0 while the topic does not exist
   */
  public int partitions() {
    int n = partitions;
    if (n == 0) {
      // locked only until the topic is first found: one count for all the stream threads
      synchronized (this) {
        n = partitions;
        if (n == 0) {
          n = topicPartitions.getAsInt();
          current = n;
          readAtMillis.set(clock.getAsLong());
          partitions = n;
        }
      }
    }
    return n;
  }

  /**
   * Why a record with {@code key} does not belong on {@code partition}, or empty when it does.
   *
   * @throws IllegalStateException when it is on no partition the app expects and the topic has
   *     grown since the start
   */
  public Optional<String> misplaced(byte[] key, int partition) {
    int n = partitions();
    if (n == 0) {
      throw new IllegalStateException(
          "interactions has a record on partition " + partition + " but no partitions");
    }
    int expected = javaPartition(key, n);
    if (partition == expected) {
      return Optional.empty();
    }
    for (int earlier : earlierCounts) {
      if (partition == javaPartition(key, earlier)) {
        return Optional.empty();
      }
    }
    int seen = recheck(n);
    if (seen != n) {
      throw new IllegalStateException(
          "interactions has "
              + seen
              + " partitions, but this application's state is partitioned by the "
              + n
              + " it had at the start: the app stops, as Kafka Streams stops it at its next"
              + " rebalance (README, streams-features: \"Changing the partition count of"
              + " interactions\")");
    }
    return Optional.of(
        "record on partition "
            + partition
            + ", but murmur2 of its key puts it on partition "
            + expected
            + " of "
            + n
            + ", where its user's state is: publish with Kafka's default partitioner (murmur2;"
            + " librdkafka clients: partitioner=murmur2_random) and no explicit partition");
  }

  /**
   * The topic's count: read again when the last read is {@code recheckMillis} old and no other
   * thread is reading it, else the last count read. While a read is under way or after one failed,
   * a record misplaced by the last count is dead-lettered, as one is between reads: after the topic
   * grows, the app that dead-letters it stops at its next rebalance and is replaced by a new
   * application that reads the topic from its earliest records (README, streams-features: "Changing
   * the partition count of interactions"), so the record is not lost.
   */
  private int recheck(int n) {
    int seen = current;
    long last = readAtMillis.get();
    long now = clock.getAsLong();
    if (seen != n || now - last < recheckMillis || !readAtMillis.compareAndSet(last, now)) {
      return seen;
    }
    try {
      seen = topicPartitions.getAsInt();
      current = seen;
    } catch (RuntimeException e) {
      // at most once per recheckMillis, as the reads are
      log.warn(
          "features: could not read the partition count of interactions again, judging records"
              + " by the last one ({}) for {} ms: {}",
          n,
          recheckMillis,
          e.getMessage());
    }
    return seen;
  }
}
