package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class InteractionsPartitioningTest {
  private static byte[] key(long user) {
    return ByteBuffer.allocate(8).putLong(user).array();
  }

  /** The first user id >= 1 whose key the Java producer puts on {@code p} of {@code n}. */
  private static long userOn(int p, int n) {
    long u = 1;
    while (BuiltInPartitioner.partitionForKey(key(u), n) != p) {
      u++;
    }
    return u;
  }

  @Test
  void expectsThePartitionKafkasJavaProducerPicks() {
    for (long u = 0; u < 1_000; u++) {
      for (int n : new int[] {1, 4, 12, 24}) {
        // the producer's own code (BuiltInPartitioner, used by KafkaProducer for a keyed record)
        assertThat(InteractionsPartitioning.javaPartition(key(u), n))
            .isEqualTo(BuiltInPartitioner.partitionForKey(key(u), n));
      }
    }
  }

  @Test
  void namesTheExpectedPartitionAndTheLibrdkafkaSetting() {
    InteractionsPartitioning partitioning = InteractionsPartitioning.fixed(4);
    long u = userOn(2, 4);

    assertThat(partitioning.misplaced(key(u), 2)).isEmpty();
    assertThat(partitioning.misplaced(key(u), 1))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .contains("on partition 1")
                    .contains("partition 2 of 4")
                    .contains("partitioner=murmur2_random"));
  }

  @Test
  void takesARecordPlacedByAnEarlierCount() {
    // on 1 of 2 and on 3 of 4: written before the topic grew from 2 to 4
    long u = 1;
    while (BuiltInPartitioner.partitionForKey(key(u), 2) != 1
        || BuiltInPartitioner.partitionForKey(key(u), 4) != 3) {
      u++;
    }
    InteractionsPartitioning partitioning =
        new InteractionsPartitioning(() -> 4, List.of(2), 1_000, () -> 0L);

    assertThat(partitioning.misplaced(key(u), 1)).isEmpty();
    assertThat(partitioning.misplaced(key(u), 3)).isEmpty();
    assertThat(partitioning.misplaced(key(u), 0)).isPresent();
  }

  @Test
  void refusesRecordsOnceTheTopicHasGrownRatherThanDeadLetterThem() {
    AtomicInteger topic = new AtomicInteger(2);
    AtomicInteger reads = new AtomicInteger();
    AtomicLong clock = new AtomicLong();
    InteractionsPartitioning partitioning =
        new InteractionsPartitioning(
            () -> {
              reads.incrementAndGet();
              return topic.get();
            },
            List.of(),
            1_000,
            clock::get);
    assertThat(partitioning.partitions()).isEqualTo(2);
    // on 0 of 3, where a producer that has seen the topic grow to 3 sends it, but on 1 of 2 (from
    // 2 to 4 no record would be: a user on 0 or 1 of 4 is there of 2 too)
    long u = 1;
    while (BuiltInPartitioner.partitionForKey(key(u), 2) != 1
        || BuiltInPartitioner.partitionForKey(key(u), 3) != 0) {
      u++;
    }
    long misplacedUser = u;

    // a second after the start the count is read again before a dead letter: still 2
    clock.set(1_000);
    assertThat(partitioning.misplaced(key(misplacedUser), 0)).isPresent();
    assertThat(reads).hasValue(2);
    topic.set(3);
    // within the second the last count stands
    clock.set(1_999);
    assertThat(partitioning.misplaced(key(misplacedUser), 0)).isPresent();
    assertThat(reads).hasValue(2);
    // then it is read again, and the grown topic stops the app instead
    clock.set(2_000);
    assertThatThrownBy(() -> partitioning.misplaced(key(misplacedUser), 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "interactions has 3 partitions, but this application's state is partitioned by the 2");
    assertThatThrownBy(() -> partitioning.misplaced(key(misplacedUser), 0))
        .isInstanceOf(IllegalStateException.class);
    assertThat(reads).hasValue(3);
    // a record where the app expects it is still taken
    assertThat(partitioning.misplaced(key(misplacedUser), 1)).isEmpty();
  }

  @Test
  void aReadOfTheCountHoldsUpNoOtherRecord() throws Exception {
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch answer = new CountDownLatch(1);
    AtomicInteger reads = new AtomicInteger();
    AtomicLong clock = new AtomicLong();
    InteractionsPartitioning partitioning =
        new InteractionsPartitioning(
            () -> {
              if (reads.incrementAndGet() > 1) {
                // the broker slow to answer the read made before a dead letter
                reading.countDown();
                try {
                  answer.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return 4;
            },
            List.of(),
            1_000,
            clock::get);
    assertThat(partitioning.partitions()).isEqualTo(4);
    clock.set(1_000);
    long u = userOn(2, 4);
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      Future<Optional<String>> misplaced = threads.submit(() -> partitioning.misplaced(key(u), 1));
      assertThat(reading.await(5, TimeUnit.SECONDS)).isTrue();

      // while that read waits: a record where it belongs is taken, and another misplaced one is
      // judged by the last count read rather than waiting for, or making, another read (the
      // bound only has to be finite: the read is not answered within it)
      assertThat(threads.submit(() -> partitioning.misplaced(key(u), 2)).get(1, TimeUnit.SECONDS))
          .isEmpty();
      assertThat(threads.submit(() -> partitioning.misplaced(key(u), 3)).get(1, TimeUnit.SECONDS))
          .isPresent();
      assertThat(reads).hasValue(2);

      answer.countDown();
      assertThat(misplaced.get(5, TimeUnit.SECONDS)).isPresent();
    } finally {
      answer.countDown();
      threads.shutdownNow();
    }
  }

  @Test
  void aFailedReadOfTheCountKeepsTheLastOneUntilTheNextRecheck() {
    AtomicInteger reads = new AtomicInteger();
    AtomicLong clock = new AtomicLong();
    InteractionsPartitioning partitioning =
        new InteractionsPartitioning(
            () -> {
              if (reads.incrementAndGet() == 2) {
                throw new IllegalStateException("could not read the partition count of x: timeout");
              }
              return 4;
            },
            List.of(),
            1_000,
            clock::get);
    assertThat(partitioning.partitions()).isEqualTo(4);
    long u = userOn(2, 4);

    // the read fails: the record is judged by the count read at the start
    clock.set(1_000);
    assertThat(partitioning.misplaced(key(u), 1)).isPresent();
    assertThat(reads).hasValue(2);
    // and the count is not read again before the recheck interval has passed
    clock.set(1_999);
    assertThat(partitioning.misplaced(key(u), 1)).isPresent();
    assertThat(reads).hasValue(2);
    clock.set(2_000);
    assertThat(partitioning.misplaced(key(u), 1)).isPresent();
    assertThat(reads).hasValue(3);
  }
}
