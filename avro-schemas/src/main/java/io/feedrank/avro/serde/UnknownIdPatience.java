package io.feedrank.avro.serde;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * How long a reader that must not lose a record (the trainer's and the ranker's of {@code
 * model-registry}) keeps reading again a record whose schema id the registry does not know, before
 * it takes the record for a foreign one and skips it. A registry replica answers 404 until it has
 * read a schema registered on another (a Confluent follower, Apicurio's KafkaSQL storage behind a
 * load balancer): skipping the record then left the trainer deciding on a registry without its
 * production model, and the ranker without a promotion until the next record. Waiting for ever
 * instead would stop both at a record no registry will ever know.
 *
 * <p>Counted per schema id from the first 404 met: an id unknown for longer than the patience is
 * skipped at once from then on, so a foreign record costs the wait once per process. At most {@link
 * #MAX_IDS} ids are followed; beyond, a flood of distinct ids, each is skipped at once.
 * Thread-safe.
 */
public final class UnknownIdPatience {
  /**
   * 30 s: far beyond a replica's usual lag (under a second for a Confluent follower, a few for
   * Apicurio's KafkaSQL), short enough that a foreign record delays a ranker's start or a decision
   * once, by this much. HttpSchemaRegistryClient remembers a 404 for a second, so each read again
   * asks the registry.
   */
  public static final Duration DEFAULT = Duration.ofSeconds(30);

  static final int MAX_IDS = 10_000;

  private final long patienceNanos;
  private final LongSupplier nanoClock;
  private final Map<Integer, Long> firstUnknownNanos = new ConcurrentHashMap<>();

  public UnknownIdPatience(Duration patience) {
    this(patience, System::nanoTime);
  }

  UnknownIdPatience(Duration patience, LongSupplier nanoClock) {
    if (patience.isNegative()) {
      throw new IllegalArgumentException("patience must be 0 or more, got " + patience);
    }
    this.patienceNanos = patience.toNanos();
    this.nanoClock = nanoClock;
  }

  /**
   * Whether the record that failed with {@code failure} should be read again after a back-off: true
   * while the failure is an unknown schema id first met less than the patience ago; false for any
   * other failure, and for an id unknown for longer (the record is then the reader's to skip).
   */
  public boolean readAgain(Throwable failure) {
    UnknownSchemaIdException unknown = UnknownSchemaIdException.in(failure);
    if (unknown == null) {
      return false;
    }
    long now = nanoClock.getAsLong();
    Long first = firstUnknownNanos.get(unknown.schemaId());
    if (first == null) {
      if (firstUnknownNanos.size() >= MAX_IDS) {
        return false;
      }
      first = firstUnknownNanos.putIfAbsent(unknown.schemaId(), now);
      if (first == null) {
        first = now;
      }
    }
    return now - first < patienceNanos;
  }
}
