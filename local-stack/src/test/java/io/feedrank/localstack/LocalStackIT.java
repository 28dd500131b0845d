package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/** The shared local stack: real broker, real Redis, real registry, all on loopback. */
@LocalStackTest
class LocalStackIT {

  @Test
  void tenThousandEventsGoThroughTheRealBrokerWithTheAvroSerdes(LocalStack stack) {
    String topic = "it-roundtrip-" + UUID.randomUUID();
    stack.createTopics(
        List.of(Topics.byName(Topics.INTERACTIONS).orElseThrow().withPartitions(4).renamed(topic)));
    Random random = new Random(20261122);
    Map<String, InteractionEvent> sent = new HashMap<>();
    Map<String, Object> pc = new HashMap<>(stack.clientConfig());
    pc.put(ProducerConfig.ACKS_CONFIG, "all");
    pc.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    try (KafkaProducer<Long, InteractionEvent> producer =
        new KafkaProducer<>(pc, new LongSerializer(), serializer(stack))) {
      for (int i = 0; i < 10_000; i++) {
        InteractionEvent e = SampleRecords.interaction(random);
        sent.put(e.getInteractionId(), e);
        producer.send(new ProducerRecord<>(topic, e.getUserId(), e));
      }
      producer.flush();
    }
    assertThat(sent).hasSize(10_000);

    Map<String, Object> cc = new HashMap<>(stack.clientConfig());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cc.put(AvroDeserializer.VALUE_TYPE, InteractionEvent.class.getName());
    List<ConsumerRecord<Long, InteractionEvent>> received = new ArrayList<>();
    AvroDeserializer<InteractionEvent> deser = new AvroDeserializer<>();
    deser.configure(cc, false);
    try (KafkaConsumer<Long, InteractionEvent> consumer =
        new KafkaConsumer<>(cc, new LongDeserializer(), deser)) {
      consumer.subscribe(List.of(topic));
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(received::add);
                return received.size() >= 10_000;
              });
    }
    assertThat(received).hasSize(10_000);
    for (ConsumerRecord<Long, InteractionEvent> r : received) {
      assertThat(r.value()).isEqualTo(sent.get(r.value().getInteractionId()));
      assertThat(r.key()).isEqualTo(r.value().getUserId());
    }
    // keyed by user: one user's events stay on one partition
    Map<Long, Set<Integer>> partitionsByUser = new HashMap<>();
    received.forEach(
        r ->
            partitionsByUser
                .computeIfAbsent(r.key(), k -> new java.util.HashSet<>())
                .add(r.partition()));
    assertThat(partitionsByUser.values()).allSatisfy(p -> assertThat(p).hasSize(1));
  }

  @Test
  void everyTopicOfTheDesignExistsWithItsCleanupPolicy(LocalStack stack) throws Exception {
    assertThat(stack.existingTopics())
        .containsAll(Topics.ALL.stream().map(Topics.TopicSpec::name).toList());
    try (Admin admin = stack.admin()) {
      for (Topics.TopicSpec t : Topics.ALL) {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, t.name());
        Config config =
            admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS).get(res);
        assertThat(config.get("cleanup.policy").value())
            .as(t.name())
            .isEqualTo(t.compacted() ? "compact" : "delete");
        int partitions =
            admin
                .describeTopics(List.of(t.name()))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(t.name())
                .partitions()
                .size();
        assertThat(partitions).as(t.name()).isEqualTo(t.partitions());
      }
    }
  }

  @Test
  void redisAnswers(LocalStack stack) {
    try (Jedis jedis = new Jedis(java.net.URI.create(stack.redisUri()))) {
      assertThat(jedis.ping()).isEqualTo("PONG");
      jedis.hset("fr:u:1", Map.of("clicks_1h", "1.5", "_v", "1"));
      assertThat(jedis.hgetAll("fr:u:1"))
          .containsEntry("clicks_1h", "1.5")
          .containsEntry("_v", "1");
      // nothing is persisted: save "" and no AOF
      assertThat(jedis.configGet("save").get("save")).isEmpty();
      assertThat(jedis.configGet("appendonly").get("appendonly")).isEqualTo("no");
      assertThat(jedis.configGet("bind").get("bind")).isEqualTo("127.0.0.1");
    }
  }

  @Test
  void everyListenerBindsToLoopbackOnly(LocalStack stack) throws IOException {
    Map<Integer, List<String>> listening = LoopbackCheck.listeningAddressesByPort();
    for (Map.Entry<String, Integer> port : stack.ports().entrySet()) {
      assertThat(listening.get(port.getValue()))
          .as(port.getKey() + " port " + port.getValue())
          .isNotEmpty()
          .allSatisfy(
              addr -> assertThat(addr).as(port.getKey()).isIn("127.0.0.1", "::ffff:127.0.0.1"));
    }
    // the registry's child JVM must not open anything else on a public address either
    for (long pid : stack.childPids()) {
      assertThat(LoopbackCheck.listeningAddressesOfProcess(pid))
          .as("pid " + pid)
          .isNotEmpty()
          .allSatisfy(addr -> assertThat(addr).isIn("127.0.0.1", "::ffff:127.0.0.1"));
    }
  }

  static AvroSerializer<InteractionEvent> serializer(LocalStack stack) {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>();
    s.configure(stack.clientConfig(), false);
    return s;
  }
}
