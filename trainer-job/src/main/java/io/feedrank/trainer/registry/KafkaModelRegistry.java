package io.feedrank.trainer.registry;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.avro.serde.UnknownIdPatience;
import io.feedrank.events.ModelVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Function;
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
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.TimeoutException;
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
 * {@code read_committed} (the rankers, the drift job, the next run) sees all of it or none: never a
 * promotion without its archive.
 *
 * <p>Decisions ({@link #update}) are also serialized between writers (a trainer's run, an
 * operator's promote or rollback, another trainer): each opens a transactional producer with the
 * one id they all share, {@link #WRITER_ID_PREFIX} + topic, before it reads. Opening it fences the
 * producer of any writer that opened before, so that one's commit fails and it reads and decides
 * again; a decision is thus always written on the state it was made from, and never two production
 * versions come of two decisions at once.
 *
 * <p>A read fails on a record whose writer schema the schema registry cannot give, rather than
 * leave it out. A record whose schema id the registry answers it does not know is read again after
 * a wait (0.5 s, doubling up to 5 s) until the id has been unknown for {@link
 * UnknownIdPatience#DEFAULT}, then skipped with a warning: a registry replica may not have read a
 * schema registered on another yet, and a read without the production model's record would promote
 * a candidate as the first model, beside it.
 */
public final class KafkaModelRegistry implements ModelRegistry, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaModelRegistry.class);

  /** The transactional id of every writer of decisions, followed by the topic. */
  public static final String WRITER_ID_PREFIX = "feedrank-registry-writer-";

  /** How many times a decision is made again after another writer's fenced it. */
  static final int DECISION_ATTEMPTS = 10;

  /** How many times a commit that timed out is tried again before the outcome is unknown. */
  static final int COMMIT_ATTEMPTS = 3;

  /** The first wait before a record of a schema id the registry does not know is read again. */
  static final long FIRST_UNKNOWN_ID_WAIT_MS = 500;

  static final long MAX_UNKNOWN_ID_WAIT_MS = 5_000;

  private final Map<String, Object> kafka;
  private final Serializer<ModelVersion> serializer;
  private final Deserializer<ModelVersion> values;
  private final KafkaProducer<String, ModelVersion> producer;
  private final String topic;
  private final UnknownIdPatience unknownIds;
  private boolean transactional;

  public KafkaModelRegistry(
      Map<String, Object> kafka,
      Serializer<ModelVersion> serializer,
      Deserializer<ModelVersion> deserializer,
      String topic) {
    this(kafka, serializer, deserializer, topic, UnknownIdPatience.DEFAULT);
  }

  /**
   * @param unknownIdPatience how long a record whose schema id the registry does not know is read
   *     again before it is skipped ({@link UnknownIdPatience})
   */
  KafkaModelRegistry(
      Map<String, Object> kafka,
      Serializer<ModelVersion> serializer,
      Deserializer<ModelVersion> deserializer,
      String topic,
      Duration unknownIdPatience) {
    this.kafka = Map.copyOf(kafka);
    this.serializer = serializer;
    this.values = deserializer;
    this.topic = topic;
    this.unknownIds = new UnknownIdPatience(unknownIdPatience);
    // unconditional writes (publish) with an id of this instance's: they fence nobody
    this.producer = producer("feedrank-registry-" + UUID.randomUUID());
  }

  private KafkaProducer<String, ModelVersion> producer(String transactionalId) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return new KafkaProducer<>(p, new StringSerializer(), serializer);
  }

  @Override
  public List<ModelVersion> versions(String modelName) {
    return read(modelName, List.of()).latest();
  }

  /**
   * Whether every one of {@code records} is in the registry topic (as the current record of its
   * version or an older one): whether the transaction that wrote them committed.
   */
  boolean landed(String modelName, List<ModelVersion> records) {
    return read(modelName, records).found() == records.size();
  }

  /** The latest record of each version, and how many of {@code look} were seen on the way. */
  private record Read(List<ModelVersion> latest, int found) {}

  private Read read(String modelName, List<ModelVersion> look) {
    java.util.Set<ModelVersion> unseen = new java.util.HashSet<>(look);
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    // on a broker with auto.create.topics.enable, asking for a missing topic's partitions would
    // create it, with the broker's defaults: deleted by age, not compacted, and the registry lost
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
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
      long unknownIdWait = FIRST_UNKNOWN_ID_WAIT_MS;
      while (!reached(c, end)) {
        try {
          for (ConsumerRecord<String, ModelVersion> r : c.poll(Duration.ofMillis(200))) {
            if (r.value() == null) {
              latest.remove(r.key());
            } else if (r.value().getModelName().equals(modelName)) {
              latest.put(r.key(), r.value());
              unseen.remove(r.value());
            }
          }
        } catch (RecordDeserializationException e) {
          if (RegistryUnavailableException.isCauseOf(e)) {
            // the record is fine, the schema registry did not answer: without it the versions
            // could lack the production model, and a candidate be promoted against nothing
            throw e;
          }
          if (unknownIds.readAgain(e)) {
            // the same, from a registry replica that has not read the schema yet; a record no
            // registry knows is skipped below once the id has been unknown for the patience
            log.info(
                "trainer: registry record at {}@{}: {}; reading it again in {} ms",
                e.topicPartition(),
                e.offset(),
                AvroDeserializer.reason(e),
                unknownIdWait);
            pause(unknownIdWait);
            unknownIdWait = Math.min(2 * unknownIdWait, MAX_UNKNOWN_ID_WAIT_MS);
            c.seek(e.topicPartition(), e.offset()); // drops the fetched records, decoded again
            continue;
          }
          log.warn(
              "trainer: skipping undecodable registry record at {}@{}: {}",
              e.topicPartition(),
              e.offset(),
              AvroDeserializer.reason(e));
          c.seek(e.topicPartition(), e.offset() + 1);
          unknownIdWait = FIRST_UNKNOWN_ID_WAIT_MS; // the next record's wait starts again
        }
      }
    }
    return new Read(List.copyOf(latest.values()), look.size() - unseen.size());
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new InterruptException(e); // sets the interrupt flag again
    }
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
      write(producer, updates);
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing to " + topic, e);
    } catch (KafkaException e) {
      throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
    }
  }

  @Override
  public List<ModelVersion> update(
      String modelName, Function<List<ModelVersion>, List<ModelVersion>> decide) {
    // what the last attempt sent: its commit may have landed though it was reported fenced (the
    // coordinator's answer lost, the retried EndTxn then refused for the later writer's epoch)
    List<ModelVersion> sent = List.of();
    for (int attempt = 1; ; attempt++) {
      KafkaProducer<String, ModelVersion> writer = producer(WRITER_ID_PREFIX + topic);
      try {
        // fences whoever opened before: from here no earlier decision commits, and a later
        // writer's opening fails this one's commit. It returns once an earlier commit is
        // complete, so the read below sees it
        writer.initTransactions();
        Read now = read(modelName, sent);
        if (!sent.isEmpty() && now.found() == sent.size()) {
          log.info(
              "trainer: the decision on {} was written after all, though its commit was refused",
              modelName);
          return sent;
        }
        List<ModelVersion> updates = decide.apply(now.latest());
        if (!updates.isEmpty()) {
          sent = updates;
          write(writer, updates);
        }
        return updates;
      } catch (InterruptException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while writing to " + topic, e);
      } catch (KafkaException e) {
        if (!fenced(e)) {
          throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
        }
        if (attempt == DECISION_ATTEMPTS) {
          throw new IllegalStateException(
              "other writers of "
                  + topic
                  + " wrote before each of "
                  + attempt
                  + " decisions could be: nothing written",
              e);
        }
        log.info(
            "trainer: another writer wrote to {} while {} was decided: reading it again",
            topic,
            modelName);
      } finally {
        writer.close(Duration.ofSeconds(5));
      }
    }
  }

  private static boolean fenced(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  /**
   * One transaction of {@code updates}. A send that failed fails the commit and the transaction is
   * aborted: nothing was written. A commit that timed out is tried again; after {@link
   * #COMMIT_ATTEMPTS} the outcome is unknown (the transaction may still complete) and said so.
   *
   * @throws KafkaException with nothing written, or {@link IllegalStateException} when unknown
   */
  private void write(KafkaProducer<String, ModelVersion> p, List<ModelVersion> updates) {
    p.beginTransaction();
    boolean committing = false;
    try {
      for (ModelVersion v : updates) {
        String key = Topics.modelRegistryKey(v.getModelName(), v.getVersion());
        p.send(new ProducerRecord<>(topic, key, v));
      }
      committing = true;
      for (int attempt = 1; ; attempt++) {
        try {
          p.commitTransaction(); // flushes; fails if any send failed
          return;
        } catch (TimeoutException e) {
          if (attempt == COMMIT_ATTEMPTS) {
            throw new IllegalStateException(
                "the write of "
                    + updates.size()
                    + " records to "
                    + topic
                    + " timed out "
                    + attempt
                    + " times while committing: it may or may not have happened (./feedrank"
                    + " registry list shows which)",
                e);
          }
          log.warn("trainer: committing to {} timed out; trying again", topic);
        }
      }
    } catch (InterruptException e) {
      if (!committing) {
        throw e; // nothing sent is committed: the transaction is the broker's to abort
      }
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while committing "
              + updates.size()
              + " records to "
              + topic
              + ": they may or may not have been written (./feedrank registry list shows which)",
          e);
    } catch (KafkaException e) {
      if (fenced(e) || e instanceof AuthorizationException) {
        throw e; // a fenced producer cannot abort: its transaction is the broker's to abort
      }
      try {
        p.abortTransaction();
      } catch (RuntimeException abort) {
        e.addSuppressed(abort);
      }
      throw new KafkaException(
          "nothing of the " + updates.size() + " records was written: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
