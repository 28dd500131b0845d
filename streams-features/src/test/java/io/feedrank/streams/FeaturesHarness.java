package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.localstack.LocalStack;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.awaitility.Awaitility;
import redis.clients.jedis.UnifiedJedis;

/**
 * One isolated run of the features app on the shared local stack: its own topics (a suffix), its
 * own application id and state directory, simulator traffic plus known-bad records, and the
 * independent recomputation the tests compare Redis with.
 */
final class FeaturesHarness {
  static final long HOUR = 3_600_000L;
  static final long DAY = 24 * HOUR;
  static final int PARTITIONS = 4;

  final LocalStack stack;
  final String suffix = "-" + UUID.randomUUID().toString().substring(0, 8);
  final TopicNames topics = TopicNames.defaults().withSuffix(suffix);
  final String applicationId = "features-it" + suffix;
  final Path stateDir = Paths.get("target", "streams-it", applicationId);
  int badRecords;

  FeaturesHarness(LocalStack stack) {
    this(stack, PARTITIONS);
  }

  /** ... with {@code partitions} partitions to each topic. */
  FeaturesHarness(LocalStack stack, int partitions) {
    this.stack = stack;
    // the tests share the stack's Redis and their users' ids and event times overlap: a hash an
    // earlier test left with a later _ts would refuse this run's writes as stale
    try (UnifiedJedis redis = RedisConnections.connect(stack.redisUri(), Duration.ofSeconds(2))) {
      redis.flushAll();
    }
    stack.createTopics(
        List.of(
            spec(Topics.INTERACTIONS, topics.interactions(), partitions),
            spec(Topics.USERS, topics.users(), partitions),
            spec(Topics.ITEMS, topics.items(), partitions),
            spec(Topics.INTERACTIONS_DLQ, topics.deadLetters(), partitions),
            spec(Topics.TRAINING_EXAMPLES, topics.trainingExamples(), partitions)));
  }

  private static Topics.TopicSpec spec(String design, String name, int partitions) {
    return Topics.byName(design).orElseThrow().withPartitions(partitions).renamed(name);
  }

  /**
   * A failed stream thread's member stays in the group until its session times out (Kafka Streams
   * does not leave on close), and its replacement waits for that: 6 s, the broker's least, instead
   * of 45.
   */
  /** A producer of raw bytes to the stack's broker: records as any client may write them. */
  static KafkaProducer<byte[], byte[]> rawProducer(LocalStack stack) {
    return new KafkaProducer<>(
        Map.of("bootstrap.servers", stack.bootstrapServers()),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  /** A long key as the topics hold it (Kafka's LongSerializer: 8 bytes, big-endian). */
  /**
   * Publishes a click of {@code user} on {@code item} at {@code at} to this harness's interactions
   * topic, keyed by user as the apps publish, and waits until it is written.
   */
  void sendClick(
      KafkaProducer<byte[], byte[]> producer,
      AvroSerializer<InteractionEvent> ser,
      String id,
      long user,
      long item,
      long at,
      Device device)
      throws Exception {
    String topic = topics.interactions();
    InteractionEvent e =
        InteractionEvent.newBuilder()
            .setInteractionId(id)
            .setUserId(user)
            .setItemId(item)
            .setEventTime(Instant.ofEpochMilli(at))
            .setClick(true)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(5f)
            .setDevice(device)
            .build();
    producer.send(new ProducerRecord<>(topic, longBytes(user), ser.serialize(topic, e))).get();
  }

  static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static void replaceFailedThreadsSoon(Map<String, String> p) {
    p.put("kafka.consumer.session.timeout.ms", "6000");
  }

  FeaturesConfig config() {
    return FeaturesConfig.from(properties());
  }

  /** The config as the flat map {@link FeaturesConfig#from} reads. */
  Map<String, String> properties() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", stack.bootstrapServers());
    p.put("schema.registry.url", stack.registryUrl());
    p.put("redis.uri", stack.redisUri());
    p.put("application.id", applicationId);
    p.put("state.dir", stateDir.toString());
    p.put("topic.suffix", suffix);
    p.put("metrics.port", "0");
    p.put("commit.interval.ms", "100");
    return p;
  }

  /** Publishes the simulator's catalog and {@code events} interactions (seeded). */
  void publishSimulated(long seed, int users, int items, long events) {
    SimulatorConfig config =
        SimulatorConfig.defaults(seed, Instant.parse("2026-11-02T06:00:00Z"))
            .withPopulation(users, items);
    try (SimulatorPublisher p =
        new SimulatorPublisher(
            stack.clientConfig(),
            new SimulatorPublisher.TopicNames(
                topics.interactions(), Topics.USERS + suffix, topics.items()))) {
      p.publish(
          new InteractionSimulator(config),
          new SimulatorPublisher.Run(events, null, 0, true),
          () -> false);
    }
  }

  /** Appends records every rule must reject: garbage bytes, a negative dwell, a wrong key. */
  void publishBadRecords(int n) {
    AvroSerializer<InteractionEvent> ser = new AvroSerializer<>(stack.registryClient(), true);
    InteractionEvent template =
        InteractionEvent.newBuilder()
            .setInteractionId("bad")
            .setUserId(1)
            .setItemId(1)
            .setEventTime(Instant.parse("2026-11-02T06:00:00Z"))
            .setClick(false)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(-5f)
            .build();
    try (KafkaProducer<byte[], byte[]> producer = rawProducer(stack)) {
      for (int i = 0; i < n; i++) {
        byte[] key = longBytes(1 + i % 50);
        byte[] value =
            switch (i % 3) {
              case 0 -> ("garbage-" + i).getBytes();
              case 1 ->
                  ser.serialize(
                      topics.interactions(),
                      InteractionEvent.newBuilder(template)
                          .setUserId(1 + i % 50)
                          .setInteractionId("bad-" + i)
                          .build());
              default ->
                  ser.serialize(
                      topics.interactions(),
                      InteractionEvent.newBuilder(template)
                          .setUserId(12345)
                          .setDwellSeconds(1f)
                          .setInteractionId("bad-" + i)
                          .build());
            };
        producer.send(new ProducerRecord<>(topics.interactions(), key, value));
      }
    }
    badRecords += n;
  }

  /** Reads a whole topic (committed records only) until {@code expected} records or the timeout. */
  <V> List<ConsumerRecord<Long, V>> readAll(
      String topic,
      org.apache.kafka.common.serialization.Deserializer<V> values,
      int expected,
      Duration timeout) {
    Map<String, Object> cc = new HashMap<>();
    cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<Long, V>> out = new ArrayList<>();
    try (KafkaConsumer<Long, V> c = new KafkaConsumer<>(cc, new LongDeserializer(), values)) {
      c.subscribe(List.of(topic));
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected;
              });
      // anything beyond the expected count would be a duplicate: drain what is there
      c.poll(Duration.ofMillis(500)).forEach(out::add);
    }
    return out;
  }

  List<ConsumerRecord<Long, TrainingExample>> trainingExamples(int expected, Duration timeout) {
    return readAll(
        topics.trainingExamples(),
        new AvroDeserializer<>(stack.registryClient(), TrainingExample.class),
        expected,
        timeout);
  }

  List<DeadLetter> deadLetters(int expected) {
    List<DeadLetter> out = new ArrayList<>();
    Map<String, Object> cc = new HashMap<>();
    cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID());
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    AvroDeserializer<DeadLetter> d =
        new AvroDeserializer<>(stack.registryClient(), DeadLetter.class);
    try (KafkaConsumer<byte[], DeadLetter> c =
        new KafkaConsumer<>(cc, new ByteArrayDeserializer(), d)) {
      c.subscribe(List.of(topics.deadLetters()));
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
                return out.size() >= expected;
              });
      c.poll(Duration.ofMillis(500)).forEach(r -> out.add(r.value()));
    }
    return out;
  }

  /**
   * The batch recomputation: every valid interaction on the topic (read back with plain consumers,
   * validity judged here), grouped per user and per item.
   */
  record Recomputed(
      Map<Long, List<InteractionEvent>> byUser,
      Map<Long, List<InteractionEvent>> byItem,
      Map<Long, String> category,
      int valid) {}

  Recomputed recompute(int expectedRecords, int expectedItems) {
    AvroDeserializer<InteractionEvent> d =
        new AvroDeserializer<>(stack.registryClient(), InteractionEvent.class);
    List<ConsumerRecord<Long, byte[]>> raw =
        readAll(
            topics.interactions(),
            new ByteArrayDeserializer(),
            expectedRecords,
            Duration.ofSeconds(60));
    Map<Long, List<InteractionEvent>> byUser = new HashMap<>();
    Map<Long, List<InteractionEvent>> byItem = new HashMap<>();
    int valid = 0;
    for (ConsumerRecord<Long, byte[]> r : raw) {
      InteractionEvent e;
      try {
        e = d.deserialize(r.topic(), r.value());
      } catch (RuntimeException ex) {
        continue;
      }
      if (e.getDwellSeconds() < 0 || r.key() != e.getUserId()) {
        continue;
      }
      valid++;
      byUser.computeIfAbsent(e.getUserId(), k -> new ArrayList<>()).add(e);
      byItem.computeIfAbsent(e.getItemId(), k -> new ArrayList<>()).add(e);
    }
    Map<Long, String> category = new HashMap<>();
    readAll(
            topics.items(),
            new AvroDeserializer<>(stack.registryClient(), ItemMetadata.class),
            expectedItems,
            Duration.ofSeconds(30))
        .forEach(r -> category.put(r.key(), r.value().getCategory()));
    return new Recomputed(byUser, byItem, category, valid);
  }

  static double decayed(
      List<InteractionEvent> events,
      long at,
      long h,
      java.util.function.ToDoubleFunction<InteractionEvent> x) {
    double s = 0;
    for (InteractionEvent e : events) {
      s += x.applyAsDouble(e) * Math.pow(2, -(double) (at - e.getEventTime().toEpochMilli()) / h);
    }
    return s;
  }

  /**
   * Waits (at most a minute) until every user and item hash read through {@code redis} equals the
   * recomputation; Redis is written asynchronously to the commits.
   */
  static void awaitRedisMatches(
      Recomputed rc, java.util.function.Function<String, Map<String, String>> redis) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> assertThat(mismatches(rc, redis)).isEmpty());
  }

  /** Differences between Redis and the recomputation (empty when equal to 1e-9 relative). */
  static List<String> mismatches(
      Recomputed rc, java.util.function.Function<String, Map<String, String>> redis) {
    List<String> bad = new ArrayList<>();
    rc.byUser()
        .forEach(
            (id, ev) -> compare("fr:u:" + id, redis.apply("fr:u:" + id), ev, bad, rc.category()));
    rc.byItem()
        .forEach((id, ev) -> compare("fr:i:" + id, redis.apply("fr:i:" + id), ev, bad, null));
    return bad;
  }

  private static void compare(
      String key,
      Map<String, String> h,
      List<InteractionEvent> ev,
      List<String> bad,
      Map<Long, String> category) {
    if (h == null || h.isEmpty()) {
      bad.add(key + " missing");
      return;
    }
    long ts = ev.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
    if (Long.parseLong(h.get("_ts")) != ts) {
      bad.add(key + " _ts " + h.get("_ts") + " != " + ts);
      return;
    }
    check(key, h, "lifetime_events", ev.size(), bad);
    checkExactly(
        key,
        h,
        "first_seen",
        ev.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).min().orElseThrow(),
        bad);
    checkExactly(key, h, "last_seen", ts, bad);
    if (category != null && !h.containsKey("country")) {
      bad.add(key + " has no profile fields");
    }
    long[] halfLives = {HOUR, DAY, 7 * DAY};
    String[] suffixes = {"1h", "1d", "7d"};
    for (int i = 0; i < 3; i++) {
      long hl = halfLives[i];
      check(key, h, "impressions_" + suffixes[i], decayed(ev, ts, hl, e -> 1), bad);
      check(key, h, "clicks_" + suffixes[i], decayed(ev, ts, hl, e -> e.getClick() ? 1 : 0), bad);
      check(key, h, "likes_" + suffixes[i], decayed(ev, ts, hl, e -> e.getLike() ? 1 : 0), bad);
      check(key, h, "shares_" + suffixes[i], decayed(ev, ts, hl, e -> e.getShare() ? 1 : 0), bad);
      check(
          key,
          h,
          "dwell_" + suffixes[i],
          decayed(ev, ts, hl, InteractionEvent::getDwellSeconds),
          bad);
    }
    if (category != null) {
      // the device mix and the UTC hour-of-day profile, each at a 7-day half-life
      for (io.feedrank.events.Device d : io.feedrank.events.Device.values()) {
        check(
            key,
            h,
            "device_" + d.name().toLowerCase(java.util.Locale.ROOT) + "_7d",
            decayed(ev, ts, 7 * DAY, e -> e.getDevice() == d ? 1 : 0),
            bad);
      }
      for (int b = 0; b < 6; b++) {
        int block = b;
        check(
            key,
            h,
            String.format(java.util.Locale.ROOT, "hours_%02d_%02d_7d", 4 * b, 4 * b + 4),
            decayed(
                ev,
                ts,
                7 * DAY,
                e ->
                    e.getEventTime().atZone(java.time.ZoneOffset.UTC).getHour() / 4 == block
                        ? 1
                        : 0),
            bad);
      }
      Map<String, List<InteractionEvent>> byCategory = new HashMap<>();
      ev.forEach(
          e ->
              byCategory
                  .computeIfAbsent(category.get(e.getItemId()), k -> new ArrayList<>())
                  .add(e));
      byCategory.forEach(
          (c, cev) -> {
            long cts =
                cev.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
            String p = "c." + c + ".";
            checkExactly(key, h, p + "_ts", cts, bad);
            check(key, h, p + "impressions_1d", decayed(cev, cts, DAY, e -> 1), bad);
            check(key, h, p + "impressions_7d", decayed(cev, cts, 7 * DAY, e -> 1), bad);
            check(key, h, p + "clicks_1d", decayed(cev, cts, DAY, e -> e.getClick() ? 1 : 0), bad);
            check(
                key,
                h,
                p + "clicks_7d",
                decayed(cev, cts, 7 * DAY, e -> e.getClick() ? 1 : 0),
                bad);
            checkExactly(
                key,
                h,
                p + "last_click",
                cev.stream()
                    .filter(InteractionEvent::getClick)
                    .mapToLong(e -> e.getEventTime().toEpochMilli())
                    .max()
                    .orElse(Long.MIN_VALUE), // never clicked
                bad);
          });
      // and no category the events do not name
      h.keySet().stream()
          .filter(k -> k.startsWith("c.") && k.endsWith("._ts"))
          .map(k -> k.substring(2, k.length() - 4))
          .filter(c -> !byCategory.containsKey(c))
          .forEach(c -> bad.add(key + " has category " + c + ", which none of its events has"));
    }
  }

  private static void checkExactly(
      String key, Map<String, String> h, String field, long expected, List<String> bad) {
    String v = h.get(field);
    if (v == null) {
      bad.add(key + "." + field + " missing");
    } else if (Long.parseLong(v) != expected) {
      bad.add(key + "." + field + " = " + v + ", recomputed " + expected);
    }
  }

  private static void check(
      String key, Map<String, String> h, String field, double expected, List<String> bad) {
    String v = h.get(field);
    if (v == null) {
      bad.add(key + "." + field + " missing");
      return;
    }
    double got = Double.parseDouble(v);
    if (Math.abs(got - expected) > 1e-9 * Math.max(1.0, Math.abs(expected))) {
      bad.add(key + "." + field + " = " + got + ", recomputed " + expected);
    }
  }

  static void assertNoDuplicates(List<ConsumerRecord<Long, TrainingExample>> examples) {
    assertThat(examples.stream().map(r -> r.value().getInteractionId()).distinct().count())
        .isEqualTo(examples.size());
  }
}
