package io.feedrank.cli.demo;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorPublisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The apps' producers: the simulator's interactions, a history as fast as the broker takes it, then
 * a steady stream at a wall-clock rate in the background; and a few malformed records, as real
 * producers send now and then, which must end up in the dead-letter topic.
 */
final class Traffic implements AutoCloseable {
  private final InteractionSimulator sim;
  private final SimulatorPublisher publisher;
  private final KafkaProducer<byte[], byte[]> raw;
  private final AvroSerializer<InteractionEvent> avro;
  private final Map<String, Long> bad = new LinkedHashMap<>();
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
  private volatile boolean stopBackground;
  private Thread background;

  Traffic(InteractionSimulator sim, Map<String, Object> clientConfig) {
    this.sim = sim;
    this.publisher = new SimulatorPublisher(clientConfig, SimulatorPublisher.TopicNames.defaults());
    Map<String, Object> c = new HashMap<>(clientConfig);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.CLIENT_ID_CONFIG, "feedrank-demo-bad-producer");
    this.raw = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
    this.avro = new AvroSerializer<>();
    avro.configure(clientConfig, false);
  }

  InteractionSimulator simulator() {
    return sim;
  }

  /** The catalog (users, items) and {@code count} interactions, as fast as possible. */
  SimulatorPublisher.Stats history(long count, BooleanSupplier stop) {
    return publisher.publish(sim, new SimulatorPublisher.Run(count, null, 0, true), stop);
  }

  /** Interactions at {@code eventsPerSecond} of wall time, in the background, until stopped. */
  synchronized void startBackground(double eventsPerSecond) {
    if (background != null) {
      return;
    }
    stopBackground = false;
    background =
        new Thread(
            () -> {
              try {
                publisher.publish(
                    sim,
                    new SimulatorPublisher.Run(0, Duration.ofDays(365), eventsPerSecond, false),
                    () -> stopBackground);
              } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
              }
            },
            "demo-traffic");
    background.setDaemon(true);
    background.start();
  }

  /** Stops the background stream; everything sent is acknowledged when this returns. */
  synchronized void stopBackground() throws InterruptedException {
    if (background == null) {
      return;
    }
    stopBackground = true;
    background.join(Duration.ofSeconds(60).toMillis());
    background = null;
    RuntimeException f = failure.get();
    if (f != null) {
      throw f;
    }
  }

  /**
   * {@code perKind} records of each kind a buggy producer sends: bytes that are not Avro in the
   * Confluent wire format, a negative user id, a dwell time beyond an hour. Returns the count sent.
   */
  long badRecords(int perKind) {
    Instant t = sim.eventTime();
    for (int i = 0; i < perKind; i++) {
      send(
          "not-avro",
          key(1L + i),
          ("{\"user_id\": " + (1 + i) + "}").getBytes(StandardCharsets.UTF_8));
      send(
          "negative-user-id",
          key(-1L - i),
          avro.serialize(Topics.INTERACTIONS, event(-1L - i, 1L, 3f, t)));
      send(
          "dwell-beyond-an-hour",
          key(1L + i),
          avro.serialize(Topics.INTERACTIONS, event(1L + i, 1L, 4_000f, t)));
    }
    raw.flush();
    return 3L * perKind;
  }

  /** Keyed by user id, as the apps key interactions. */
  private static byte[] key(long userId) {
    return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(userId).array();
  }

  private void send(String kind, byte[] key, byte[] value) {
    raw.send(
        new ProducerRecord<>(
            Topics.INTERACTIONS, null, sim.eventTime().toEpochMilli(), key, value));
    bad.merge(kind, 1L, Long::sum);
  }

  private static InteractionEvent event(long user, long item, float dwell, Instant t) {
    return InteractionEvent.newBuilder()
        .setInteractionId(java.util.UUID.randomUUID().toString())
        .setUserId(user)
        .setItemId(item)
        .setEventTime(t)
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(dwell)
        .build();
  }

  /** Malformed records sent, by kind. */
  Map<String, Long> badSent() {
    return Map.copyOf(bad);
  }

  Instant eventTime() {
    return sim.eventTime();
  }

  @Override
  public void close() {
    try {
      stopBackground();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // reported by stopBackground's caller when it matters
    }
    publisher.close();
    raw.close(Duration.ofSeconds(10));
    avro.close();
  }
}
