package io.feedrank.trainer.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * What a run holds of the examples of its range: every one while there are at most {@code
 * capacity}, else a uniform random sample of {@code capacity} of them, so that a run's memory is
 * bounded by {@code max.examples} however much traffic the range saw.
 *
 * <p>The sample is the {@code capacity} examples of smallest priority, a priority being a hash of
 * the example's user, item and event time mixed with the seed (bottom-k sampling, the seeded form
 * of a reservoir): every subset of {@code capacity} examples is equally likely, so the kept ones
 * spread over the range's event time as the offered ones do, and the temporal split still trains on
 * the oldest 70% of the range's time and holds out the newest 15%. It depends on the seed and the
 * set of examples offered only, not on their order: a Kafka read interleaves its partitions
 * differently each time, and a reservoir drawing from a seeded {@code Random} in read order would
 * keep another sample at every run of the same range and seed.
 *
 * <p>Holds at most {@code capacity} examples and one small entry (24 bytes) per example kept. Not
 * thread-safe.
 */
public final class ExampleSample {
  private static final Comparator<Kept> LAST_FIRST =
      Comparator.comparingLong(Kept::priority)
          .thenComparingLong(k -> k.example().eventTimeMillis())
          .thenComparingLong(k -> k.example().userId())
          .thenComparingLong(k -> k.example().itemId())
          .reversed();

  private final int capacity;
  private final long seed;
  private final PriorityQueue<Kept> kept = new PriorityQueue<>(LAST_FIRST);
  private long offered;

  private record Kept(long priority, Example example) {}

  /**
   * Keeps at most {@code capacity} (at least 1) of the examples offered, sampled with {@code seed}.
   */
  public ExampleSample(int capacity, long seed) {
    if (capacity < 1) {
      throw new IllegalArgumentException("an example sample keeps at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.seed = seed;
  }

  /** Offers one example of the range; it is kept, or it or an earlier one is let go. */
  public void offer(Example e) {
    offered++;
    Kept k = new Kept(priority(e), e);
    if (kept.size() < capacity) {
      kept.add(k);
    } else if (LAST_FIRST.compare(k, kept.peek()) > 0) {
      kept.poll();
      kept.add(k);
    }
  }

  /** How many examples were offered: the usable examples of the range. */
  public long offered() {
    return offered;
  }

  /** How many examples are kept: at most the capacity. */
  public int size() {
    return kept.size();
  }

  public int capacity() {
    return capacity;
  }

  /** Whether examples were let go: the range had more than the capacity. */
  public boolean sampled() {
    return offered > kept.size();
  }

  /**
   * The kept examples in {@link Example#ORDER} (a new list): the same list for the same examples
   * offered, whatever their order (the queue's array order depends on the order of the offers).
   */
  public List<Example> examples() {
    List<Example> out = new ArrayList<>(kept.size());
    kept.forEach(k -> out.add(k.example()));
    out.sort(Example.ORDER);
    return out;
  }

  /**
   * A read's result: the kept examples, the counts of what the read passed over, and the records of
   * the topic it read (null for a source that is not a topic).
   */
  public ExampleSource.Loaded loaded(
      long recordsRead, long outsideRange, long unusable, long stampedLate, TopicRead topicRead) {
    return new ExampleSource.Loaded(
        examples(), offered, recordsRead, outsideRange, unusable, stampedLate, topicRead);
  }

  private long priority(Example e) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    h = mix(h ^ e.userId());
    h = mix(h ^ e.itemId());
    return mix(h ^ e.eventTimeMillis());
  }

  /** MurmurHash3's 64-bit finalizer: every input bit reaches every output bit. */
  static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB93FE53B1A85L;
    return z ^ (z >>> 33);
  }
}
