package io.feedrank.trainer;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Examples and retrain commands on the real topics, and trainer configurations, for the ITs. */
public final class TrainerHarness {
  final LocalStack stack;
  final Path artifacts;

  TrainerHarness(LocalStack stack, Path artifacts) {
    this.stack = stack;
    this.artifacts = artifacts;
  }

  /** Simulated examples starting {@code start} (recent, so the broker's retention keeps them). */
  static List<TrainingExample> examples(Instant start, int n, long seed) {
    List<TrainingExample> out = new ArrayList<>(n);
    new SimulatedExamples(SimulatorConfig.defaults(seed, start).withPopulation(2_000, 5_000), n)
        .forEachRemaining(out::add);
    return out;
  }

  static Instant recentHour() {
    return Instant.now().minus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
  }

  /**
   * Publishes examples to {@code training-examples} in transactions of 5,000, keyed by user and
   * stamped with their event time, as the streams app does; with {@code abort}, the transaction is
   * aborted instead of committed.
   */
  void publish(List<TrainingExample> examples, boolean abort) {
    publish(Topics.TRAINING_EXAMPLES, examples, abort);
  }

  /** {@link #publish(List, boolean)} to {@code topic}. */
  void publish(String topic, List<TrainingExample> examples, boolean abort) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put("schema.registry.url", stack.registryUrl());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "trainer-it-" + System.nanoTime());
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    AvroSerializer<TrainingExample> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<Long, TrainingExample> producer =
        new KafkaProducer<>(p, new LongSerializer(), values)) {
      producer.initTransactions();
      for (int from = 0; from < examples.size(); from += 5_000) {
        producer.beginTransaction();
        for (TrainingExample e : examples.subList(from, Math.min(examples.size(), from + 5_000))) {
          producer.send(
              new ProducerRecord<>(topic, null, e.getEventTime().toEpochMilli(), e.getUserId(), e));
        }
        if (abort) {
          producer.abortTransaction();
        } else {
          producer.commitTransaction();
        }
      }
    }
  }

  /**
   * Publishes {@code examples} to partition 0 of {@code topic}, in order, each stamped with its
   * {@code stamps} entry (milliseconds) instead of its event time, without a transaction.
   */
  void publishStamped(String topic, List<TrainingExample> examples, List<Long> stamps) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put("schema.registry.url", stack.registryUrl());
    AvroSerializer<TrainingExample> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<Long, TrainingExample> producer =
        new KafkaProducer<>(p, new LongSerializer(), values)) {
      for (int i = 0; i < examples.size(); i++) {
        TrainingExample e = examples.get(i);
        producer.send(new ProducerRecord<>(topic, 0, stamps.get(i), e.getUserId(), e));
      }
      producer.flush();
    }
  }

  /**
   * Publishes retrain commands {@code ids} for {@code model} to {@code retrain-commands}, in order,
   * over [from, to) (null: the trainer's default range).
   */
  public static void sendCommands(
      LocalStack stack, String model, Instant from, Instant to, String... ids) {
    sendCommands(stack, model, from, to, null, RetrainReason.FEATURE_DRIFT, ids);
  }

  /**
   * Publishes retrain commands {@code ids} for {@code model}, in order: for its version {@code
   * reference} (null: none), for {@code reason}, over [from, to) (null: the trainer's default).
   */
  public static void sendCommands(
      LocalStack stack,
      String model,
      Instant from,
      Instant to,
      String reference,
      RetrainReason reason,
      String... ids) {
    List<RetrainCommand> commands = new ArrayList<>();
    for (String id : ids) {
      commands.add(
          RetrainCommand.newBuilder()
              .setCommandId(id)
              .setModelName(model)
              .setIssuedAt(Instant.now())
              .setReason(reason)
              .setReferenceVersion(reference)
              .setDataFrom(from)
              .setDataTo(to)
              .build());
    }
    sendCommands(stack, commands);
  }

  /** Publishes {@code commands} to retrain-commands, in order, each keyed by its model name. */
  public static void sendCommands(LocalStack stack, List<RetrainCommand> commands) {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    AvroSerializer<RetrainCommand> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<String, RetrainCommand> producer =
        new KafkaProducer<>(p, new StringSerializer(), values)) {
      for (RetrainCommand c : commands) {
        producer.send(new ProducerRecord<>(Topics.RETRAIN_COMMANDS, c.getModelName(), c));
      }
    }
  }

  /** A small, fast configuration: MLP of 128-64, two epochs at most. */
  Map<String, String> config(Instant from, Instant to) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("artifact.store", artifacts.toString());
    c.put("architectures", "mlp");
    c.put("data.from", from.toString());
    c.put("data.to", to.toString());
    small(c);
    c.put("mlp.layers", "128,64");
    c.put("data.idle.timeout.ms", "20000");
    return c;
  }

  /** Small networks trained briefly on small data, for the tests (no Kafka keys). */
  static void small(Map<String, String> c) {
    c.put("min.examples", "2000");
    c.put("export.verify.rows", "1000");
    c.put("embedding.dim", "8");
    c.put("user.buckets", "4000");
    c.put("item.buckets", "10000");
    c.put("max.epochs", "2");
    c.put("patience", "1");
  }
}
