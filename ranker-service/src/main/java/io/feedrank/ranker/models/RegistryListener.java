package io.feedrank.ranker.models;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.ModelVersion;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * (every replica reads all of it), keeps the latest record per key and hands the state to the
 * {@link ModelDirector} after every poll that brought news. A record that cannot be decoded is
 * skipped and logged; the broker being away only pauses it.
 */
public final class RegistryListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RegistryListener.class);

  private final KafkaConsumer<String, ModelVersion> consumer;
  private final String topic;
  private final ModelDirector director;
  private final Map<String, ModelVersion> latest = new HashMap<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean running = true;

  public RegistryListener(
      Map<String, Object> kafka,
      Deserializer<ModelVersion> values,
      String topic,
      ModelDirector director) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), values);
    this.topic = topic;
    this.director = director;
    this.thread = new Thread(this::run, "ranker-registry-listener");
    this.thread.setDaemon(true);
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

  private void run() {
    try {
      assign();
      Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
      while (running) {
        boolean news = false;
        try {
          for (ConsumerRecord<String, ModelVersion> r : consumer.poll(Duration.ofMillis(250))) {
            if (r.value() == null) {
              latest.remove(r.key());
            } else {
              latest.put(r.key(), r.value());
            }
            news = true;
          }
        } catch (RecordDeserializationException e) {
          log.warn(
              "ranker: skipping undecodable registry record {}-{}@{}: {}",
              e.topicPartition().topic(),
              e.topicPartition().partition(),
              e.offset(),
              e.getMessage());
          consumer.seek(e.topicPartition(), e.offset() + 1);
          continue;
        }
        if (news) {
          director.onRegistry(List.copyOf(latest.values()));
        }
        if (caughtUp.getCount() > 0 && reached(end)) {
          director.onRegistry(List.copyOf(latest.values()));
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } catch (RuntimeException e) {
      log.error("ranker: registry listener stopped: {}", e.toString(), e);
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void assign() {
    List<PartitionInfo> parts;
    while (running) {
      try {
        parts = consumer.partitionsFor(topic, Duration.ofSeconds(5));
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        log.info("ranker: Kafka not reachable yet for {}: {}", topic, e.getMessage());
        continue;
      }
      if (parts != null && !parts.isEmpty()) {
        consumer.assign(
            parts.stream()
                .map(pi -> new TopicPartition(topic, pi.partition()))
                .collect(Collectors.toList()));
        consumer.seekToBeginning(consumer.assignment());
        return;
      }
      log.info("ranker: waiting for topic {} to exist", topic);
    }
  }

  private boolean reached(Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    thread.join(5_000);
  }
}
