package io.feedrank.cli.demo;

import io.feedrank.avro.serde.AvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads whole topics the way an auditor would: every committed record from the beginning up to the
 * end offsets taken when the read starts ({@code read_committed}, no consumer group), and a
 * consumer group's lag.
 */
final class TopicReader {
  private final Map<String, Object> clientConfig;

  TopicReader(Map<String, Object> clientConfig) {
    this.clientConfig = clientConfig;
  }

  /** Committed records of {@code topic} now (transaction markers and aborted records excluded). */
  long count(String topic) {
    long[] n = {0};
    scan(topic, r -> n[0]++);
    return n[0];
  }

  /** Every committed record of {@code topic}, deserialized as {@code type}. */
  <T extends SpecificRecord> List<T> read(String topic, Class<T> type) {
    Map<String, Object> c = new HashMap<>(clientConfig);
    c.put(AvroDeserializer.VALUE_TYPE, type.getName());
    try (AvroDeserializer<T> values = new AvroDeserializer<>()) {
      values.configure(c, false);
      List<T> out = new ArrayList<>();
      scan(topic, r -> out.add(values.deserialize(topic, r.value())));
      return out;
    }
  }

  private void scan(String topic, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> f) {
    Map<String, Object> c = new HashMap<>(clientConfig);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("reading " + topic + " took longer than 2 minutes");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            f.accept(r);
          }
        }
      }
    }
  }

  /**
   * How far {@code group} is behind: the sum, over the partitions of {@code input}, of the Kafka
   * Streams app's repartition topics ({@code group-…-repartition}) and of every other partition the
   * group has committed offsets for, of the last stable offset minus the committed offset (a
   * partition without a commit counts from the beginning). Zero means every record the group reads
   * has been processed and its output committed; the lag of {@code input} alone is not that, since
   * the records of a repartition topic are still to be processed when the source topic's offsets
   * are committed.
   */
  long lag(Admin admin, String group, String input) {
    try {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Set<TopicPartition> parts = new HashSet<>(offsets.keySet());
      // the input and the app's repartition topics, committed to yet or not
      List<String> topics = new ArrayList<>(List.of(input));
      admin.listTopics().names().get().stream()
          .filter(t -> t.startsWith(group + "-") && t.endsWith("-repartition"))
          .forEach(topics::add);
      admin.describeTopics(topics).allTopicNames().get().values().stream()
          .flatMap(
              d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition())))
          .forEach(parts::add);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      parts.forEach(p -> latest.put(p, OffsetSpec.latest()));
      Map<TopicPartition, Long> end = new HashMap<>();
      admin
          .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
          .all()
          .get()
          .forEach((p, info) -> end.put(p, info.offset()));
      long lag = 0;
      for (TopicPartition p : parts) {
        OffsetAndMetadata o = offsets.get(p);
        lag += Math.max(0, end.get(p) - (o == null ? 0 : o.offset()));
      }
      return lag;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("lag of " + group + ": " + e.getCause(), e);
    }
  }
}
