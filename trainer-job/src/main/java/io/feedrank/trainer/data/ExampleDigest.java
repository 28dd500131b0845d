package io.feedrank.trainer.data;

import java.util.Collection;
import java.util.Locale;

/**
 * A digest of a set of examples that does not depend on their order, so that two runs can be
 * checked to have kept the same examples although each read interleaves the partitions as its
 * fetches come back: the sum, modulo 2^64, over the examples of a 64-bit hash of each example's
 * user id, item id, event time (epoch milliseconds) and click label, as 16 hex digits. The hash is
 * {@code m(m(m(m(user) ^ item) ^ eventTime) ^ click)}, with {@code m} MurmurHash3's 64-bit
 * finalizer and {@code click} 1 or 0. A sum rather than an exclusive or: an example kept twice
 * changes it.
 */
public final class ExampleDigest {
  private ExampleDigest() {}

  public static String of(Collection<Example> examples) {
    long sum = 0;
    for (Example e : examples) {
      sum += hash(e);
    }
    return String.format(Locale.ROOT, "%016x", sum);
  }

  private static long hash(Example e) {
    long h = ExampleSample.mix(e.userId());
    h = ExampleSample.mix(h ^ e.itemId());
    h = ExampleSample.mix(h ^ e.eventTimeMillis());
    return ExampleSample.mix(h ^ (e.click() ? 1 : 0));
  }
}
