package io.feedrank.ranker.models;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.avro.serde.UnknownIdPatience;
import io.feedrank.events.ModelVersion;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the compacted {@code model-registry} topic from the beginning, without a consumer group
 * (every replica reads all of it), keeps the latest record per key (without its reference profile,
 * which the ranker never reads) and hands the whole state to its sink (the {@link ModelDirector})
 * once it has read to the end offsets it found at its start, then after every poll that brought
 * news. A record that cannot be decoded is skipped and logged; the broker being away only pauses
 * it.
 *
 * <p>A record whose writer schema the schema registry cannot give is not skipped: that is a
 * failure, handled as the others below, so that the listener neither hands over a state without it
 * (at start, a state without the production model) nor drops a promotion. So is a record whose
 * schema id the registry answers it does not know, until the id has been unknown for {@link
 * UnknownIdPatience#DEFAULT} (a registry replica may not have read a schema registered on another
 * yet); then it is skipped as foreign.
 *
 * <p>Any other failure (a Kafka error the client does not retry, the sink throwing) does not end
 * it: it logs the failure, counts it ({@code ranker.registry.listener.failures}), shows {@code
 * ranker.registry.listener.up} 0, waits (1 s, doubling up to 30 s while failures repeat) and reads
 * the topic again from the beginning with a new consumer. The serving models stay meanwhile.
 */
public final class RegistryListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RegistryListener.class);
  private static final long FIRST_BACKOFF_MS = 1_000;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final long MISSING_TOPIC_WAIT_MS = 1_000;
  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final Properties props;
  private final Deserializer<ModelVersion> values;
  private final UnknownIdPatience unknownIds = new UnknownIdPatience(UnknownIdPatience.DEFAULT);
  private final String topic;
  private final Consumer<List<ModelVersion>> sink;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final CountDownLatch closing = new CountDownLatch(1);
  private final AtomicInteger up = new AtomicInteger();
  private final Counter failures;
  private final Thread thread;
  private volatile KafkaConsumer<String, ModelVersion> consumer;
  private volatile boolean running = true;
  private volatile long lastWaitMillis;
  // whether the current pass over the topic has handed on a whole state (the listener's thread)
  private boolean passHandedOn;

  /**
   * @param sink receives the latest record of every key, the whole state each time
   */
  public RegistryListener(
      Map<String, Object> kafka,
      Deserializer<ModelVersion> values,
      String topic,
      Consumer<List<ModelVersion>> sink,
      MeterRegistry metrics) {
    this.props = new Properties();
    props.putAll(kafka);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    this.values = values;
    // the first consumer here, so that a configuration it refuses fails the ranker's start
    this.consumer = newConsumer();
    this.topic = topic;
    this.sink = sink;
    Gauge.builder("ranker.registry.listener.up", up, AtomicInteger::get)
        .description(
            "1 while the ranker follows the model-registry topic, 0 while it waits to read it"
                + " again after a failure (or has stopped)")
        .register(metrics);
    this.failures =
        Counter.builder("ranker.registry.listener.failures")
            .description("times the registry listener failed and started reading the topic again")
            .register(metrics);
    this.thread = new Thread(this::run, "ranker-registry-listener");
    this.thread.setDaemon(true);
  }

  private KafkaConsumer<String, ModelVersion> newConsumer() {
    // the deserializer is the listener's for its whole life: a closing consumer closes what it is
    // given, so it is given a view without a close of its own
    Deserializer<ModelVersion> shared = values::deserialize;
    return new KafkaConsumer<>(props, new StringDeserializer(), shared);
  }

  /** The value deserializer for a registry configuration. */
  public static Deserializer<ModelVersion> deserializer(Map<String, Object> registryConfig) {
    AvroDeserializer<ModelVersion> d = new AvroDeserializer<>();
    Map<String, Object> c = new HashMap<>(registryConfig);
    c.put(AvroDeserializer.VALUE_TYPE, ModelVersion.class.getName());
    d.configure(c, false);
    return d;
  }

  public void start() {
    thread.start();
  }

  /** Waits until the listener has read the topic up to its end once (the startup state). */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean caughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Whether it is following the topic now: false while it waits after a failure, or stopped. */
  public boolean following() {
    return up.get() == 1;
  }

  /** Its thread's id, for a test to read the thread's CPU time. */
  long threadId() {
    return thread.getId();
  }

  /** Whether its thread still runs: after {@link #close} it must not. */
  boolean threadAlive() {
    return thread.isAlive();
  }

  /** The wait after the last failure before reading again, for a test. */
  long lastWaitMillis() {
    return lastWaitMillis;
  }

  private void run() {
    long backoff = FIRST_BACKOFF_MS;
    try {
      while (running) {
        KafkaConsumer<String, ModelVersion> c = consumer;
        passHandedOn = false;
        try {
          if (c == null) {
            c = newConsumer();
            consumer = c;
          }
          up.set(1);
          follow(c);
        } catch (WakeupException e) {
          if (!running) {
            return;
          }
          backoff = fail(e, backoff);
        } catch (RuntimeException e) {
          backoff = fail(e, backoff);
        } finally {
          consumer = null;
          if (c != null) {
            c.close(Duration.ofSeconds(2));
          }
        }
        if (closing.await(backoff, TimeUnit.MILLISECONDS)) {
          return;
        }
        backoff = Math.min(2 * backoff, MAX_BACKOFF_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Error e) {
      log.error("ranker: registry listener stopped: {}", e.toString(), e);
      throw e;
    } finally {
      up.set(0);
    }
  }

  /**
   * Counts and logs a failure; returns the wait before reading again: the first wait again when the
   * failed pass had handed on a whole state (the wait doubles only while failures repeat before
   * one, and a listener that failed now and then over days would otherwise wait 30 s each time).
   */
  private long fail(RuntimeException e, long backoff) {
    if (passHandedOn) {
      backoff = FIRST_BACKOFF_MS;
    }
    lastWaitMillis = backoff; // before the count a test waits for
    up.set(0);
    failures.increment();
    log.error(
        "ranker: registry listener failed ({}); reading {} again from its start in {} ms; the"
            + " serving models stay",
        e.toString(),
        topic,
        backoff,
        e);
    return backoff;
  }

  /**
   * Reads the topic from its beginning with {@code c} until the listener closes; {@link
   * #passHandedOn} once it has read to the end offsets found at the start and handed that on.
   */
  private void follow(KafkaConsumer<String, ModelVersion> c) {
    if (!assign(c)) {
      return;
    }
    Map<TopicPartition, Long> end = c.endOffsets(c.assignment());
    Map<String, ModelVersion> latest = new HashMap<>();
    boolean current = false;
    long handedAt = 0;
    while (running) {
      boolean news = false;
      try {
        for (ConsumerRecord<String, ModelVersion> r : c.poll(Duration.ofMillis(250))) {
          if (r.value() == null) {
            latest.remove(r.key());
          } else {
            // held for the ranker's life (the topic has no tombstones): without the reference
            // profile, some 300 KB a version that the ranker never reads (ModelDirector.kept)
            r.value().setReferenceProfile(null);
            latest.put(r.key(), r.value());
          }
          news = true;
        }
      } catch (RecordDeserializationException e) {
        if (RegistryUnavailableException.isCauseOf(e) || unknownIds.readAgain(e)) {
          // the record is fine, the schema registry did not answer or does not know its schema
          // yet: skipping it could drop a promotion, so fail, and read the topic again from its
          // start after the backoff
          throw e;
        }
        log.warn(
            "ranker: skipping undecodable registry record {}-{}@{}: {}",
            e.topicPartition().topic(),
            e.topicPartition().partition(),
            e.offset(),
            AvroDeserializer.reason(e));
        c.seek(e.topicPartition(), e.offset() + 1);
        continue;
      }
      // the state is handed on only once it is whole: a partial one would lack STAGING's record
      // and end the A/B share, or load a production version the topic has already replaced
      // once current, the state is handed on after news, and again every few seconds without:
      // the sink tries an artifact the store could not read again then
      if (!current && reached(c, end)) {
        current = true;
        sink.accept(List.copyOf(latest.values()));
        handedAt = System.nanoTime();
        passHandedOn = true;
        caughtUp.countDown();
      } else if (current && (news || System.nanoTime() - handedAt >= RECHECK_NANOS)) {
        sink.accept(List.copyOf(latest.values()));
        handedAt = System.nanoTime();
      }
    }
  }

  /**
   * Assigns every partition of the topic, waiting while the broker is away or the topic does not
   * exist yet (the listener never creates it: a topic it created would not be compacted). Returns
   * false when the listener closed first.
   */
  private boolean assign(KafkaConsumer<String, ModelVersion> c) {
    List<PartitionInfo> parts;
    boolean told = false;
    while (running) {
      try {
        parts = c.partitionsFor(topic, Duration.ofSeconds(5));
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        log.info("ranker: Kafka not reachable yet for {}: {}", topic, e.getMessage());
        continue;
      }
      if (parts != null && !parts.isEmpty()) {
        c.assign(
            parts.stream()
                .map(pi -> new TopicPartition(topic, pi.partition()))
                .collect(Collectors.toList()));
        c.seekToBeginning(c.assignment());
        return true;
      }
      // an absent topic is answered at once: wait before asking again, and say so once
      if (!told) {
        log.info("ranker: waiting for topic {} to exist", topic);
        told = true;
      }
      try {
        if (closing.await(MISSING_TOPIC_WAIT_MS, TimeUnit.MILLISECONDS)) {
          return false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private static boolean reached(
      KafkaConsumer<String, ModelVersion> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    closing.countDown();
    KafkaConsumer<String, ModelVersion> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(5_000);
    } finally {
      // an interrupted wait too: the deserializer's registry client is released
      KafkaConsumer<String, ModelVersion> unused = consumer;
      if (unused != null && !thread.isAlive()) { // never started: its first consumer is still open
        consumer = null;
        unused.close(Duration.ZERO);
      }
      values.close();
    }
  }
}
