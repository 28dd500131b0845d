package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a client wired by {@link Main#supervise} ends when a thread dies, against the real broker: a
 * dead global thread fails the client for good, and says so; a dead stream thread is replaced,
 * unless an Error killed it.
 */
@LocalStackTest
class SupervisionIT {
  @TempDir(factory = StateDirFactory.class)
  Path stateDir;

  @Test
  void aDeadGlobalThreadFailsTheClientForGoodAndSaysSo(LocalStack stack) throws Exception {
    String topic = topic(stack, "supervision-global");
    StreamsBuilder b = new StreamsBuilder();
    b.addGlobalStore(
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("table"), Serdes.String(), Serdes.String())
            .withLoggingDisabled(),
        topic,
        Consumed.with(Serdes.String(), Serdes.String()),
        () ->
            new Processor<String, String, Void, Void>() {
              @Override
              public void process(Record<String, String> r) {
                throw new IllegalStateException("cannot read " + r.key());
              }
            });
    try (KafkaStreams streams = new KafkaStreams(b.build(), props(stack))) {
      CompletableFuture<Void> failed = Main.supervise(streams, new CompletableFuture<>());
      streams.start();
      awaitRunning(streams);
      assertThat(failed).isNotDone();

      send(stack, topic, "item-1");
      failed.get(60, TimeUnit.SECONDS);
      assertThat(streams.state()).isEqualTo(KafkaStreams.State.ERROR);
    }
  }

  @Test
  void aDeadStreamThreadIsReplacedAndTheClientRunsOn(LocalStack stack) throws Exception {
    String topic = topic(stack, "supervision-stream");
    AtomicBoolean thrown = new AtomicBoolean();
    AtomicInteger processed = new AtomicInteger();
    StreamsBuilder b = new StreamsBuilder();
    b.stream(topic, Consumed.with(Serdes.String(), Serdes.String()))
        .foreach(
            (k, v) -> {
              if (k.equals("poison") && thrown.compareAndSet(false, true)) {
                throw new IllegalStateException("poison");
              }
              processed.incrementAndGet();
            });
    try (KafkaStreams streams = new KafkaStreams(b.build(), props(stack))) {
      CompletableFuture<Void> failed = Main.supervise(streams, new CompletableFuture<>());
      streams.start();
      awaitRunning(streams);

      send(stack, topic, "poison");
      send(stack, topic, "after");
      // the replacement re-reads the uncommitted record, then the next one
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> processed.get() >= 2);
      assertThat(thrown).isTrue();
      assertThat(failed).isNotDone();
      awaitRunning(streams);
    }
  }

  /**
   * A stream thread that dies of an Error (here a StackOverflowError, as a recursion too deep for
   * its stack throws) is not replaced: the client fails for good, for the process to be restarted.
   * It used to be replaced, as for an exception, also for an OutOfMemoryError.
   */
  @Test
  void aStreamThreadDeadOfAnErrorFailsTheClientForGood(LocalStack stack) throws Exception {
    String topic = topic(stack, "supervision-error");
    StreamsBuilder b = new StreamsBuilder();
    b.stream(topic, Consumed.with(Serdes.String(), Serdes.String()))
        .foreach(
            (k, v) -> {
              throw new StackOverflowError("test");
            });
    try (KafkaStreams streams = new KafkaStreams(b.build(), props(stack))) {
      CompletableFuture<Void> failed = Main.supervise(streams, new CompletableFuture<>());
      streams.start();
      awaitRunning(streams);

      send(stack, topic, "deep");
      failed.get(60, TimeUnit.SECONDS);
      assertThat(streams.state()).isEqualTo(KafkaStreams.State.ERROR);
    }
  }

  private Properties props(LocalStack stack) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "supervision-" + UUID.randomUUID());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // the replacement of a dead stream thread gets its partitions back only once the dead member's
    // session has expired (README, When the schema registry is away): the broker's least, not the
    // 45 s default, which was most of this class's time
    p.put("consumer.session.timeout.ms", 6000);
    p.put("consumer.auto.offset.reset", "earliest");
    p.put("global.consumer.auto.offset.reset", "earliest");
    return p;
  }

  private static String topic(LocalStack stack, String prefix) throws Exception {
    String name = prefix + "-" + UUID.randomUUID();
    try (var admin = stack.admin()) {
      admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
    }
    return name;
  }

  private static void send(LocalStack stack, String topic, String key) throws Exception {
    Map<String, Object> c = Map.of("bootstrap.servers", stack.bootstrapServers());
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(c, new StringSerializer(), new StringSerializer())) {
      p.send(new ProducerRecord<>(topic, key, "v")).get();
    }
  }

  private static void awaitRunning(KafkaStreams streams) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> streams.state() == KafkaStreams.State.RUNNING);
  }
}
