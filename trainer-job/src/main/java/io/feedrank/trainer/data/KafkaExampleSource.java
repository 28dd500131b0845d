package io.feedrank.trainer.data;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.TrainingExample;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.ClusterResource;
import org.apache.kafka.common.ClusterResourceListener;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the examples of an event-time range from the {@code training-examples} topic, bounded:
 * every partition is read from the first record whose timestamp is at or after {@code from −
 * lateness} (an example keeps the timestamp of its interaction's record: the time the app sent it,
 * which may lag or lead event time) up to the end offset it had when the read began ({@code
 * read_committed}, so aborted transactions are never trained on). Event time decides membership. No
 * consumer group: nothing is committed.
 *
 * <p>A partition is read to that end offset even past records stamped after {@code to + lateness}:
 * its timestamps are not in order (copies of producer timestamps, written by the streams app's item
 * tasks at uneven speeds through a backlog), so an example of the range may follow a record stamped
 * hours later, and no earlier offset is known to be safe to stop at. A range in the past therefore
 * reads on to the topic's end; the examples of the range stamped after {@code to + lateness} are
 * counted ({@link Loaded#stampedLate}).
 *
 * <p>The read says which records it took ({@link TopicRead}): per partition the log's start, the
 * offsets read from and to and the records read, so that a rebuild of the range can be checked to
 * have read the same ones. A partition whose retention (or {@code deleteRecords}) has deleted
 * records the range may have had is read from what is left, and logged as a warning: its first
 * remaining record is stamped after {@code from − lateness} ({@link TopicRead.Partition#trimmed}).
 */
public final class KafkaExampleSource implements ExampleSource {
  private static final Logger log = LoggerFactory.getLogger(KafkaExampleSource.class);

  private final Map<String, Object> kafka;
  private final Deserializer<TrainingExample> values;
  private final String topic;
  private final Duration lateness;
  private final Duration idleTimeout;

  public KafkaExampleSource(
      Map<String, Object> kafka,
      Deserializer<TrainingExample> values,
      String topic,
      Duration lateness,
      Duration idleTimeout) {
    this.kafka = Map.copyOf(kafka);
    this.values = values;
    this.topic = topic;
    this.lateness = lateness;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public Loaded read(DataRange range, ExampleSample sample) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
    p.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    ClusterIdKeys keys = new ClusterIdKeys();
    try (KafkaConsumer<byte[], TrainingExample> consumer = new KafkaConsumer<>(p, keys, values)) {
      return read(consumer, keys, range, sample);
    }
  }

  private Loaded read(
      KafkaConsumer<byte[], TrainingExample> consumer,
      ClusterIdKeys keys,
      DataRange range,
      ExampleSample sample) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist or has no partitions");
    }
    List<TopicPartition> parts = new ArrayList<>();
    infos.forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
    consumer.assign(parts);
    Map<TopicPartition, Long> end = consumer.endOffsets(parts);
    Map<TopicPartition, Long> logStart = consumer.beginningOffsets(parts);
    long seekTime = range.from().minus(lateness).toEpochMilli();
    long lateTime = range.to().plus(lateness).toEpochMilli();
    Map<TopicPartition, Long> query = new HashMap<>();
    parts.forEach(tp -> query.put(tp, Math.max(0, seekTime)));
    Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(query);
    Set<TopicPartition> open = new HashSet<>();
    Map<TopicPartition, Long> startOffset = new HashMap<>();
    Map<TopicPartition, Long> readPerPartition = new HashMap<>();
    for (TopicPartition tp : parts) {
      OffsetAndTimestamp o = start.get(tp);
      long offset = o == null ? end.get(tp) : o.offset();
      consumer.seek(tp, offset);
      startOffset.put(tp, offset);
      readPerPartition.put(tp, 0L);
      if (offset < end.get(tp)) {
        open.add(tp);
      }
    }
    long read = 0;
    long outside = 0;
    long unusable = 0;
    long stampedLate = 0;
    long lastProgress = System.nanoTime();
    while (!open.isEmpty()) {
      Iterable<ConsumerRecord<byte[], TrainingExample>> records;
      try {
        records = consumer.poll(Duration.ofMillis(500));
      } catch (RecordDeserializationException e) {
        if (RegistryUnavailableException.isCauseOf(e)) {
          throw e; // not an unusable example: the schema registry did not answer; the run fails
        }
        if (++unusable <= LOGGED_UNUSABLE) {
          log.warn(
              "trainer: skipping unusable example at {}@{}: {}",
              e.topicPartition(),
              e.offset(),
              AvroDeserializer.reason(e));
        }
        consumer.seek(e.topicPartition(), e.offset() + 1);
        continue;
      }
      boolean any = false;
      for (ConsumerRecord<byte[], TrainingExample> r : records) {
        any = true;
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (!open.contains(tp) || r.offset() >= end.get(tp)) {
          continue;
        }
        read++;
        readPerPartition.merge(tp, 1L, Long::sum);
        if (r.value() == null || !range.contains(r.value().getEventTime().toEpochMilli())) {
          outside++;
          continue;
        }
        try {
          sample.offer(Example.of(r.value()));
        } catch (IllegalArgumentException e) {
          if (++unusable <= LOGGED_UNUSABLE) {
            log.warn("trainer: skipping example at {}@{}: {}", tp, r.offset(), e.getMessage());
          }
          continue;
        }
        if (r.timestamp() > lateTime) {
          stampedLate++;
        }
      }
      for (TopicPartition tp : List.copyOf(open)) {
        if (consumer.position(tp) >= end.get(tp)) {
          open.remove(tp);
        }
      }
      consumer.pause(parts.stream().filter(tp -> !open.contains(tp)).toList());
      if (any) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > idleTimeout.toNanos()) {
        throw new IllegalStateException(
            "no records from " + topic + " for " + idleTimeout + " with " + open + " unread");
      }
    }
    if (unusable > LOGGED_UNUSABLE) {
      // after a feature schema change, every older example is one: a line each would be millions
      log.warn(
          "trainer: skipped {} unusable examples of {} in all (the first {} logged above)",
          unusable,
          topic,
          LOGGED_UNUSABLE);
    }
    List<TopicRead.Partition> partitions = new ArrayList<>();
    for (TopicPartition tp : parts) {
      OffsetAndTimestamp o = start.get(tp);
      partitions.add(
          new TopicRead.Partition(
              tp.partition(),
              logStart.get(tp),
              startOffset.get(tp),
              end.get(tp),
              readPerPartition.get(tp),
              o == null ? null : o.timestamp()));
    }
    TopicRead topicRead = new TopicRead(topic, keys.clusterId, lateness.toMillis(), partitions);
    warnIfTrimmed(topicRead, range);
    return sample.loaded(read, outside, unusable, stampedLate, topicRead);
  }

  /**
   * Warns of each partition whose records of the range may have been deleted: the run succeeds on
   * what is left (its {@code run.json} lists the partitions), but it is not the data the range had.
   */
  private void warnIfTrimmed(TopicRead read, DataRange range) {
    for (TopicRead.Partition p : read.partitions()) {
      if (p.trimmed()) {
        log.warn(
            "trainer: {}-{} has no records before offset {} (deleted: retention or deleteRecords),"
                + " its first stamped {}, after the read's start {} ({} − data.lateness.ms): records"
                + " of {} may be missing",
            topic,
            p.partition(),
            p.logStartOffset(),
            p.startTimestampMillis() == null
                ? "none (the partition is empty)"
                : Instant.ofEpochMilli(p.startTimestampMillis()),
            range.from().minus(lateness),
            range.from(),
            range);
      }
    }
  }

  /**
   * The keys as they are, and the cluster's id, which the consumer hands to a deserializer that
   * listens for it at its first metadata response.
   */
  private static final class ClusterIdKeys extends ByteArrayDeserializer
      implements ClusterResourceListener {
    volatile String clusterId;

    @Override
    public void onUpdate(ClusterResource cluster) {
      clusterId = cluster.clusterId();
    }
  }

  /** How many unusable examples of one read are logged one by one. */
  static final int LOGGED_UNUSABLE = 10;
}
