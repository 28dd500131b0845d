package io.feedrank.simulator;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a simulator's world and events to Kafka with the Avro serdes: user profiles and the
 * item catalog to the compacted topics first, then interactions keyed by user_id, with the event
 * time as the record timestamp, at a target rate or as fast as the producer takes them. Items a
 * scenario creates are published before the first event that can show them. Idempotent producer,
 * acks=all; any send failure fails the run.
 */
public final class SimulatorPublisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SimulatorPublisher.class);

  /** Topic names (defaults: DESIGN §2; tests use their own). */
  public record TopicNames(String interactions, String users, String items) {
    public static TopicNames defaults() {
      return new TopicNames(Topics.INTERACTIONS, Topics.USERS, Topics.ITEMS);
    }
  }

  /**
   * How much to publish.
   *
   * @param count stop after this many interactions (0 = no limit)
   * @param duration stop after this wall time (null = no limit)
   * @param eventsPerSecond target wall-clock rate (0 = as fast as possible)
   * @param publishCatalog publish users and items before the events
   */
  public record Run(long count, Duration duration, double eventsPerSecond, boolean publishCatalog) {
    public Run {
      if (count < 0) {
        throw new IllegalArgumentException("count must be >= 0, got " + count);
      }
      if (eventsPerSecond < 0) {
        throw new IllegalArgumentException("rate must be >= 0 events/s, got " + eventsPerSecond);
      }
      if (count == 0 && duration == null) {
        throw new IllegalArgumentException("give a count or a duration (or both)");
      }
    }
  }

  /**
   * What a run published.
   *
   * @param elapsed the whole run, catalog included
   * @param eventsElapsed the interaction phase only, up to the last acknowledgement
   */
  public record Stats(
      long interactions,
      long users,
      long items,
      Duration elapsed,
      Duration eventsElapsed,
      Instant firstEventTime,
      Instant lastEventTime) {
    /** Interactions per second of the interaction phase. */
    public double eventsPerSecond() {
      double s = eventsElapsed.toNanos() / 1e9;
      return s > 0 ? interactions / s : 0;
    }
  }

  private static final long MAX_PARK_NANOS = 100_000_000L;

  private final KafkaProducer<Long, SpecificRecord> producer;
  private final TopicNames topics;
  private final String servers;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong acked = new AtomicLong();

  /**
   * @param clientConfig Kafka producer config plus {@code schema.registry.url} (and optional basic
   *     auth); producer defaults here favour throughput with idempotence
   */
  public SimulatorPublisher(Map<String, Object> clientConfig, TopicNames topics) {
    Map<String, Object> cfg = producerConfig(clientConfig);
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    values.configure(cfg, false);
    this.producer = new KafkaProducer<>(cfg, new LongSerializer(), values);
    this.topics = topics;
    this.servers = String.valueOf(cfg.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
  }

  /**
   * The producer's configuration: the publisher's defaults, then {@code clientConfig}, which wins
   * over them. It runs for as long as {@code simulate} or {@code up} does, so it retries a broker
   * that is away at most every {@link ConfigMap#RECONNECT_BACKOFF_MAX_MS} ms, as the services do.
   */
  static Map<String, Object> producerConfig(Map<String, Object> clientConfig) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ProducerConfig.ACKS_CONFIG, "all");
    cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    cfg.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    cfg.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    cfg.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    cfg.put(ProducerConfig.CLIENT_ID_CONFIG, "feedrank-simulator");
    cfg.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
    cfg.putAll(clientConfig);
    return cfg;
  }

  /**
   * Publishes until the run's count or duration is reached, or {@code stop} says so.
   *
   * @throws IllegalStateException when Kafka refused a record
   */
  public Stats publish(InteractionSimulator sim, Run run, BooleanSupplier stop) {
    long t0 = System.nanoTime();
    long users = 0;
    long items = 0;
    if (run.publishCatalog()) {
      for (UserProfile p : sim.userProfiles()) {
        send(topics.users(), p.getUserId(), p, p.getCreatedAt());
        users++;
      }
      items += sendItems(sim.itemMetadata());
      log.info("simulator: published {} users and {} items", users, items);
    }
    long start = System.nanoTime();
    long deadline = run.duration() == null ? Long.MAX_VALUE : start + run.duration().toNanos();
    double nanosPerEvent = run.eventsPerSecond() > 0 ? 1e9 / run.eventsPerSecond() : 0;
    long n = 0;
    Instant first = null;
    Instant last = null;
    while ((run.count() == 0 || n < run.count()) && failure.get() == null && !stop.getAsBoolean()) {
      if (nanosPerEvent > 0) {
        // until the event is due, in slices, so that neither the deadline nor a stop is slept
        // through (at 0.01 events/s, one wait would be 100 s)
        long due = start + (long) (n * nanosPerEvent);
        long wait;
        while ((wait = Math.min(due, deadline) - System.nanoTime()) > 0 && !stop.getAsBoolean()) {
          LockSupport.parkNanos(Math.min(wait, MAX_PARK_NANOS));
        }
        if (stop.getAsBoolean()) {
          break;
        }
      }
      if (run.duration() != null && System.nanoTime() - deadline >= 0) {
        break;
      }
      InteractionEvent e = sim.next();
      List<ItemMetadata> newItems = sim.drainNewItems();
      if (!newItems.isEmpty()) {
        items += sendItems(newItems);
        log.info(
            "simulator: scenario {} published {} new items",
            sim.config().scenario(),
            newItems.size());
      }
      send(topics.interactions(), e.getUserId(), e, e.getEventTime());
      if (first == null) {
        first = e.getEventTime();
      }
      last = e.getEventTime();
      n++;
    }
    producer.flush();
    failIfRefused();
    long end = System.nanoTime();
    return new Stats(
        n, users, items, Duration.ofNanos(end - t0), Duration.ofNanos(end - start), first, last);
  }

  private long sendItems(List<ItemMetadata> items) {
    for (ItemMetadata m : items) {
      send(topics.items(), m.getItemId(), m, m.getCreatedAt());
    }
    return items.size();
  }

  private final Callback callback =
      (metadata, exception) -> {
        if (exception != null) {
          failure.compareAndSet(null, exception);
        } else {
          acked.incrementAndGet();
        }
      };

  /**
   * Sends a record, and fails at the first refusal known: with Kafka unreachable, each send waits
   * {@code max.block.ms} for the topic's metadata and fails, and going on would wait that long for
   * every record of the catalog (tens of thousands of minutes) before saying anything.
   */
  private void send(String topic, long key, SpecificRecord value, Instant timestamp) {
    producer.send(
        new ProducerRecord<>(topic, null, timestamp.toEpochMilli(), key, value), callback);
    failIfRefused();
  }

  private void failIfRefused() {
    Exception f = failure.get();
    if (f != null) {
      throw new IllegalStateException(
          "simulator: Kafka at " + servers + " refused a record: " + f.getMessage(), f);
    }
  }

  /** Records acknowledged by the broker so far. */
  public long acked() {
    return acked.get();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }
}
