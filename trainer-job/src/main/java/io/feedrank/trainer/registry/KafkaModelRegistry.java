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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
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
 * consumer group); a write is acknowledged by all in-sync replicas before it returns (idempotent
 * producer), so the next read — here or in a ranker — sees it.
 */
public final class KafkaModelRegistry implements ModelRegistry, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaModelRegistry.class);

  private final Map<String, Object> kafka;
  private final Deserializer<ModelVersion> values;
  private final KafkaProducer<String, ModelVersion> producer;
  private final String topic;

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
  public void publish(List<ModelVersion> updates) {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (ModelVersion v : updates) {
      String key = Topics.modelRegistryKey(v.getModelName(), v.getVersion());
      sent.add(producer.send(new ProducerRecord<>(topic, key, v)));
    }
    producer.flush();
    for (Future<RecordMetadata> f : sent) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while writing to " + topic, e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("cannot write to " + topic + ": " + e.getCause(), e);
      }
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
