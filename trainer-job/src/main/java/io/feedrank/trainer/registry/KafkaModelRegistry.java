package io.feedrank.trainer.registry;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.ModelVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry on the compacted {@code model-registry} topic, keyed {@code name@version}: a read
 * goes through the topic from the beginning to the end offsets it had when the read began (no
 * consumer group); a write of several records (a promotion and the production version it archives)
 * is one transaction, acknowledged by all in-sync replicas before it returns, so a reader with
 * {@code read_committed} (the rankers, the drift job, the next run) sees all of it or none: never
 * two production versions, nor a promotion without its archive.
 */
public final class KafkaModelRegistry implements ModelRegistry, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaModelRegistry.class);

  private final Map<String, Object> kafka;
  private final Deserializer<ModelVersion> values;
  private final KafkaProducer<String, ModelVersion> producer;
  private final String topic;
  private boolean transactional;

  public KafkaModelRegistry(
      Map<String, Object> kafka,
      Serializer<ModelVersion> serializer,
      Deserializer<ModelVersion> deserializer,
      String topic) {
    this.kafka = Map.copyOf(kafka);
    this.values = deserializer;
    this.topic = topic;
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    // one id per instance: the trainer's runs and an operator's promote may write at once
    p.putIfAbsent(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "feedrank-registry-" + UUID.randomUUID());
    this.producer = new KafkaProducer<>(p, new StringSerializer(), serializer);
  }

  @Override
  public List<ModelVersion> versions(String modelName) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, ModelVersion> latest = new HashMap<>();
    try (KafkaConsumer<String, ModelVersion> c =
        new KafkaConsumer<>(p, new StringDeserializer(), values)) {
      List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("registry topic " + topic + " does not exist");
      }
      List<TopicPartition> parts = new ArrayList<>();
      infos.forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (!reached(c, end)) {
        try {
          for (ConsumerRecord<String, ModelVersion> r : c.poll(Duration.ofMillis(200))) {
            if (r.value() == null) {
              latest.remove(r.key());
            } else if (r.value().getModelName().equals(modelName)) {
              latest.put(r.key(), r.value());
            }
          }
        } catch (RecordDeserializationException e) {
          if (RegistryUnavailableException.isCauseOf(e)) {
            // the record is fine, the schema registry did not answer: without it the versions
            // could lack the production model, and a candidate be promoted against nothing
            throw e;
          }
          log.warn(
              "trainer: skipping undecodable registry record at {}@{}",
              e.topicPartition(),
              e.offset());
          c.seek(e.topicPartition(), e.offset() + 1);
        }
      }
    }
    return List.copyOf(latest.values());
  }

  private static boolean reached(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public synchronized void publish(List<ModelVersion> updates) {
    if (updates.isEmpty()) {
      return;
    }
    try {
      if (!transactional) {
        producer.initTransactions(); // here, not at construction: a read needs no broker write
        transactional = true;
      }
      producer.beginTransaction();
      for (ModelVersion v : updates) {
        String key = Topics.modelRegistryKey(v.getModelName(), v.getVersion());
        producer.send(new ProducerRecord<>(topic, key, v));
      }
      producer.commitTransaction(); // flushes; fails if any send failed
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing to " + topic, e);
    } catch (ProducerFencedException | AuthorizationException e) {
      throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException abort) {
        e.addSuppressed(abort);
      }
      throw new IllegalStateException(
          "cannot write to " + topic + " (nothing of the " + updates.size() + " records): " + e, e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
