package io.feedrank.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The simulator publishing to the real broker and registry of the local stack. */
@LocalStackTest
class SimulatorPublisherIT {
  static final Instant START = Instant.parse("2026-11-02T12:00:00Z");

  @Test
  void publishesTheWorldAndTheExactStreamTheGeneratorMakes(LocalStack stack) {
    SimulatorPublisher.TopicNames topics = freshTopics(stack);
    SimulatorConfig config =
        SimulatorConfig.defaults(99, START)
            .withPopulation(300, 1_000)
            .withScenario(Scenario.NEW_ITEM_FLOOD, START.plusSeconds(20), 1.0);
    SimulatorPublisher.Stats stats;
    try (SimulatorPublisher publisher = new SimulatorPublisher(stack.clientConfig(), topics)) {
      stats =
          publisher.publish(
              new InteractionSimulator(config),
              new SimulatorPublisher.Run(5_000, null, 0, true),
              () -> false);
    }
    assertThat(stats.interactions()).isEqualTo(5_000);
    assertThat(stats.users()).isEqualTo(300);
    assertThat(stats.items()).isEqualTo(1_000 + 200); // catalog + the flood

    // the same seed regenerates what must be on the topic, in per-user order
    InteractionSimulator replay = new InteractionSimulator(config);
    List<InteractionEvent> expected = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      expected.add(replay.next());
    }
    List<ConsumerRecord<Long, InteractionEvent>> got =
        consume(stack, topics.interactions(), InteractionEvent.class, 5_000);
    assertThat(got.stream().map(ConsumerRecord::value).toList())
        .containsExactlyInAnyOrderElementsOf(expected);
    for (ConsumerRecord<Long, InteractionEvent> r : got) {
      assertThat(r.key()).isEqualTo(r.value().getUserId());
      assertThat(r.timestamp()).isEqualTo(r.value().getEventTime().toEpochMilli());
    }
    Map<Long, List<InteractionEvent>> perUserGot =
        byUser(got.stream().map(ConsumerRecord::value).toList());
    assertThat(perUserGot).isEqualTo(byUser(expected));

    assertThat(consume(stack, topics.users(), UserProfile.class, 300)).hasSize(300);
    List<ConsumerRecord<Long, ItemMetadata>> items =
        consume(stack, topics.items(), ItemMetadata.class, 1_200);
    assertThat(items.stream().filter(r -> r.key() > 1_000).map(r -> r.value().getCreatedAt()))
        .hasSize(200)
        .allSatisfy(t -> assertThat(t).isAfterOrEqualTo(START.plusSeconds(20)));
  }

  @Test
  void aTargetRateIsNeverExceeded(LocalStack stack) {
    SimulatorPublisher.TopicNames topics = freshTopics(stack);
    SimulatorConfig config = SimulatorConfig.defaults(5, START).withPopulation(100, 100);
    SimulatorPublisher.Stats stats;
    try (SimulatorPublisher publisher = new SimulatorPublisher(stack.clientConfig(), topics)) {
      long t0 = System.nanoTime();
      stats =
          publisher.publish(
              new InteractionSimulator(config),
              new SimulatorPublisher.Run(500, null, 1_000, false),
              () -> false);
      // the test's own clock, not the publisher's account of itself
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isGreaterThanOrEqualTo(Duration.ofMillis(499));
    }
    assertThat(stats.interactions()).isEqualTo(500);
    // event i is not sent before start + i / rate: 499 gaps of 1 ms at least
    assertThat(stats.eventsElapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(499));
  }

  /**
   * Waiting for the next event at a slow rate sleeps through neither the run's duration nor a stop:
   * at 0.1 events/s the second event is due 10 s after the first, but a 1 s run ends after 1 s, and
   * a stop after 0.3 s ends the run then.
   */
  @Test
  void aSlowRateWaitsNeitherPastTheDurationNorPastAStop(LocalStack stack) {
    SimulatorPublisher.TopicNames topics = freshTopics(stack);
    SimulatorConfig config = SimulatorConfig.defaults(5, START).withPopulation(100, 100);
    try (SimulatorPublisher publisher = new SimulatorPublisher(stack.clientConfig(), topics)) {
      long t0 = System.nanoTime();
      SimulatorPublisher.Stats timed =
          publisher.publish(
              new InteractionSimulator(config),
              new SimulatorPublisher.Run(0, Duration.ofSeconds(1), 0.1, false),
              () -> false);
      assertThat(timed.interactions()).isEqualTo(1);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));

      long stopAt = System.nanoTime() + Duration.ofMillis(300).toNanos();
      SimulatorPublisher.Stats stopped =
          publisher.publish(
              new InteractionSimulator(config),
              new SimulatorPublisher.Run(10, null, 0.1, false),
              () -> System.nanoTime() > stopAt);
      assertThat(stopped.interactions()).isEqualTo(1);
      assertThat(Duration.ofNanos(System.nanoTime() - stopAt)).isLessThan(Duration.ofSeconds(5));
    }
  }

  private static Map<Long, List<InteractionEvent>> byUser(List<InteractionEvent> events) {
    Map<Long, List<InteractionEvent>> m = new HashMap<>();
    events.forEach(e -> m.computeIfAbsent(e.getUserId(), k -> new ArrayList<>()).add(e));
    return m;
  }

  private static SimulatorPublisher.TopicNames freshTopics(LocalStack stack) {
    String suffix = "-" + UUID.randomUUID();
    SimulatorPublisher.TopicNames t =
        new SimulatorPublisher.TopicNames(
            Topics.INTERACTIONS + suffix, Topics.USERS + suffix, Topics.ITEMS + suffix);
    stack.createTopics(
        List.of(
            Topics.byName(Topics.INTERACTIONS)
                .orElseThrow()
                .withPartitions(3)
                .renamed(t.interactions()),
            Topics.byName(Topics.USERS).orElseThrow().withPartitions(3).renamed(t.users()),
            Topics.byName(Topics.ITEMS).orElseThrow().withPartitions(3).renamed(t.items())));
    return t;
  }

  static <T extends SpecificRecord> List<ConsumerRecord<Long, T>> consume(
      LocalStack stack, String topic, Class<T> type, int expected) {
    Map<String, Object> cc = new HashMap<>(stack.clientConfig());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    AvroDeserializer<T> deser = new AvroDeserializer<>(stack.registryClient(), type);
    List<ConsumerRecord<Long, T>> out = new ArrayList<>();
    try (KafkaConsumer<Long, T> consumer = new KafkaConsumer<>(cc, new LongDeserializer(), deser)) {
      consumer.subscribe(List.of(topic));
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected;
              });
    }
    return out;
  }
}
