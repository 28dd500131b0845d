package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.avro.registry.InMemorySchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.examples.PointInTimeExamples;
import io.feedrank.features.examples.RequestSnapshots;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.AsyncFeatureWriter;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import io.feedrank.streams.redis.HeldWriter;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.validation.EventValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The topology {@code Main} runs, in {@link TopologyTestDriver}, with an in-memory registry and an
 * in-memory feature writer. Expected values are computed here from the events with the closed-form
 * decayed sums, independently of the code under test.
 */
class FeatureTopologyTest {
  static final long MINUTE = 60_000L;
  static final long HOUR = 60 * MINUTE;
  static final long DAY = 24 * HOUR;
  static final long T0 = Instant.parse("2026-11-02T08:00:00Z").toEpochMilli();
  static final String[] CATEGORIES = {"news", "sports", "music"};

  @TempDir(factory = StateDirFactory.class)
  Path stateDir;

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  final Map<String, Map<String, String>> redis = new ConcurrentHashMap<>();

  /**
   * HSET into {@link #redis}, but a partial write with {@code _ts} to a key it lacks, or whose hash
   * has no {@code _ts}, sets nothing and reports the key lost, as the Redis writer's script does.
   */
  final FeatureWriter writer =
      new FeatureWriter() {
        @Override
        public void write(List<FeatureWrite> batch) {
          writeFindingLost(batch);
        }

        @Override
        public java.util.Set<String> writeFindingLost(List<FeatureWrite> batch) {
          java.util.Set<String> lost = new java.util.HashSet<>();
          for (FeatureWrite w : batch) {
            if (w.partial()
                && w.fields().containsKey("_ts")
                && !redis.getOrDefault(w.key(), Map.of()).containsKey("_ts")) {
              lost.add(w.key());
            } else {
              redis.computeIfAbsent(w.key(), k -> new ConcurrentHashMap<>()).putAll(w.fields());
            }
          }
          return lost;
        }
      };

  final TopicNames topics = TopicNames.defaults();
  TopologyTestDriver driver;
  TestInputTopic<byte[], byte[]> interactions;
  TestOutputTopic<Long, TrainingExample> examples;
  TestOutputTopic<byte[], DeadLetter> deadLetters;
  TestInputTopic<Long, UserProfile> users;
  TestInputTopic<Long, ItemMetadata> items;
  final AvroSerializer<InteractionEvent> eventSerializer = new AvroSerializer<>(registry, true);

  void start(EventValidator validator) {
    start(validator, FeatureTopology.Settings.DEFAULT_STATE_OBJECTS);
  }

  void start(EventValidator validator, int stateObjects) {
    start(
        new FeatureTopology.Settings("test-app", validator, Duration.ofMillis(100), stateObjects),
        null);
  }

  /** The default settings but for whether schemas are registered and the dead letters' limit. */
  static FeatureTopology.Settings settings(boolean autoRegisterSchemas, int maxDeadLetterBytes) {
    return settings(
        autoRegisterSchemas,
        maxDeadLetterBytes,
        FeatureTopology.Settings.DEFAULT_REPARTITION_FORMAT);
  }

  /** ... and the format the user side writes to the repartition topic. */
  static FeatureTopology.Settings settings(
      boolean autoRegisterSchemas, int maxDeadLetterBytes, int repartitionFormat) {
    return new FeatureTopology.Settings(
        "test-app",
        new EventValidator(Duration.ofHours(1), Duration.ofDays(7)),
        Duration.ofMillis(100),
        FeatureTopology.Settings.DEFAULT_STATE_OBJECTS,
        Duration.ZERO,
        autoRegisterSchemas,
        maxDeadLetterBytes,
        repartitionFormat,
        FeatureTopology.Settings.DEFAULT_MAX_CATEGORY_BYTES,
        FeatureTopology.Settings.DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK,
        FeatureTopology.Settings.DEFAULT_REDIS_TTL);
  }

  void start(FeatureTopology.Settings settings, Instant wallClock) {
    start(settings, wallClock, writer);
  }

  /** Kafka Streams properties a test sets before it starts the driver, over the test's own. */
  final Properties appProperties = new Properties();

  /** Starts the topology writing to Redis through {@code to}: {@link #writer}, or one before it. */
  void start(FeatureTopology.Settings settings, Instant wallClock, FeatureWriter to) {
    startDriver(settings, wallClock, to, registry);
    profiles().forEach(p -> users.pipeInput(p.getUserId(), p));
    catalog().forEach(m -> items.pipeInput(m.getItemId(), m));
  }

  /**
   * Starts the topology with the app asking {@code appRegistry} (the tests' producers use {@link
   * #registry}), its tables empty.
   */
  void startDriver(
      FeatureTopology.Settings settings,
      Instant wallClock,
      FeatureWriter to,
      SchemaRegistryClient appRegistry) {
    Properties props = new Properties();
    props.putAll(appProperties);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "feature-topology-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    var topology =
        FeatureTopology.build(topics, settings, to, appRegistry, new FeatureMetrics(meters));
    driver =
        wallClock == null
            ? new TopologyTestDriver(topology, props)
            : new TopologyTestDriver(topology, props, wallClock);
    interactions =
        driver.createInputTopic(
            topics.interactions(), new ByteArraySerializer(), new ByteArraySerializer());
    examples =
        driver.createOutputTopic(
            topics.trainingExamples(),
            new LongDeserializer(),
            new AvroDeserializer<>(registry, TrainingExample.class));
    deadLetters =
        driver.createOutputTopic(
            topics.deadLetters(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
            new AvroDeserializer<>(registry, DeadLetter.class));
    users =
        driver.createInputTopic(
            topics.users(), new LongSerializer(), new AvroSerializer<UserProfile>(registry, true));
    items =
        driver.createInputTopic(
            topics.items(), new LongSerializer(), new AvroSerializer<ItemMetadata>(registry, true));
  }

  static List<UserProfile> profiles() {
    List<UserProfile> out = new ArrayList<>();
    for (long u = 1; u <= 5; u++) {
      out.add(
          UserProfile.newBuilder()
              .setUserId(u)
              .setCreatedAt(Instant.ofEpochMilli(T0 - u * 10 * DAY))
              .setCountry("C" + u)
              .setPrimaryDevice(Device.DESKTOP)
              .build());
    }
    return out;
  }

  static List<ItemMetadata> catalog() {
    List<ItemMetadata> out = new ArrayList<>();
    for (long i = 1; i <= 30; i++) {
      out.add(
          ItemMetadata.newBuilder()
              .setItemId(i)
              .setCategory(category(i))
              .setCreatedAt(Instant.ofEpochMilli(T0 - 5 * DAY))
              .setContentLength((int) (10 * i))
              .build());
    }
    return out;
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  static String category(long itemId) {
    return CATEGORIES[(int) (itemId % CATEGORIES.length)];
  }

  static List<InteractionEvent> events(int n, long seed) {
    Random r = new Random(seed);
    List<InteractionEvent> out = new ArrayList<>();
    long t = T0;
    for (int i = 0; i < n; i++) {
      t += (long) (r.nextDouble() * 120_000);
      out.add(
          InteractionEvent.newBuilder()
              .setInteractionId("e-" + seed + "-" + i)
              .setUserId(1 + r.nextInt(5))
              .setItemId(1 + r.nextInt(30))
              .setEventTime(Instant.ofEpochMilli(t))
              .setClick(r.nextInt(4) == 0)
              .setLike(r.nextInt(15) == 0)
              .setShare(r.nextInt(40) == 0)
              .setDwellSeconds(r.nextFloat() * 100)
              .setDevice(Device.values()[r.nextInt(4)])
              .build());
    }
    return out;
  }

  void pipe(InteractionEvent e) {
    interactions.pipeInput(
        new TestRecord<>(
            key(e.getUserId()),
            eventSerializer.serialize(topics.interactions(), e),
            e.getEventTime()));
  }

  static byte[] key(long userId) {
    return ByteBuffer.allocate(8).putLong(userId).array();
  }

  /** Σ x · 2^(-(at - t)/h) over the events. */
  static double decayed(
      List<InteractionEvent> events, long at, long h, ToDoubleFunction<InteractionEvent> x) {
    double s = 0;
    for (InteractionEvent e : events) {
      s += x.applyAsDouble(e) * Math.pow(2, -(double) (at - e.getEventTime().toEpochMilli()) / h);
    }
    return s;
  }

  void assertRedisMatchesClosedForm(List<InteractionEvent> events) {
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer
    Map<Long, List<InteractionEvent>> byUser = new HashMap<>();
    Map<Long, List<InteractionEvent>> byItem = new HashMap<>();
    events.forEach(e -> byUser.computeIfAbsent(e.getUserId(), k -> new ArrayList<>()).add(e));
    events.forEach(e -> byItem.computeIfAbsent(e.getItemId(), k -> new ArrayList<>()).add(e));
    for (var entry : byUser.entrySet()) {
      Map<String, String> h = redis.get("fr:u:" + entry.getKey());
      List<InteractionEvent> ev = entry.getValue();
      long ts = ev.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
      assertThat(Long.parseLong(h.get("_ts"))).isEqualTo(ts);
      assertThat(h.get("_v")).isEqualTo(Integer.toString(FeatureSchema.VERSION));
      assertThat(h)
          .containsEntry("country", "C" + entry.getKey())
          .containsEntry("primary_device", "DESKTOP");
      assertClose(h, "clicks_1h", decayed(ev, ts, HOUR, e -> e.getClick() ? 1 : 0));
      assertClose(h, "impressions_1d", decayed(ev, ts, DAY, e -> 1));
      assertClose(h, "likes_7d", decayed(ev, ts, 7 * DAY, e -> e.getLike() ? 1 : 0));
      assertClose(h, "dwell_1d", decayed(ev, ts, DAY, InteractionEvent::getDwellSeconds));
      assertThat(h.get("lifetime_events")).isEqualTo(Integer.toString(ev.size()));
      List<InteractionEvent> sports =
          ev.stream().filter(e -> category(e.getItemId()).equals("sports")).toList();
      if (!sports.isEmpty()) {
        long cts =
            sports.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
        assertClose(
            h, "c.sports.clicks_7d", decayed(sports, cts, 7 * DAY, e -> e.getClick() ? 1 : 0));
      }
      // smoothed CTR from the stored hash, an hour later: (clicks + 5 * 0.1) / (impressions + 5)
      double[] f = UserState.fromHash(h).features(ts + HOUR);
      double clicks = decayed(ev, ts + HOUR, DAY, e -> e.getClick() ? 1 : 0);
      double imps = decayed(ev, ts + HOUR, DAY, e -> 1);
      assertThat(f[FeatureSchema.USER.indexOf("u_ctr_1d")])
          .isCloseTo((clicks + 0.5) / (imps + 5), within(1e-12));
    }
    for (var entry : byItem.entrySet()) {
      Map<String, String> h = redis.get("fr:i:" + entry.getKey());
      List<InteractionEvent> ev = entry.getValue();
      long ts = ev.stream().mapToLong(e -> e.getEventTime().toEpochMilli()).max().orElseThrow();
      assertClose(h, "clicks_7d", decayed(ev, ts, 7 * DAY, e -> e.getClick() ? 1 : 0));
      assertClose(h, "shares_1h", decayed(ev, ts, HOUR, e -> e.getShare() ? 1 : 0));
      assertThat(h.get("category")).isEqualTo(category(entry.getKey()));
      assertThat(h.get("content_length")).isEqualTo(Long.toString(10 * entry.getKey()));
    }
  }

  static void assertClose(Map<String, String> h, String field, double expected) {
    assertThat(Double.parseDouble(h.get(field)))
        .as(field)
        .isCloseTo(expected, within(1e-9 * Math.max(1, Math.abs(expected))));
  }

  /**
   * Deserialized states held per task: all of them, 3 (nearly every lookup reads the store), none.
   */
  @ParameterizedTest(name = "state objects held per task: {0}")
  @ValueSource(ints = {FeatureTopology.Settings.DEFAULT_STATE_OBJECTS, 3, 0})
  void redisFeaturesEqualTheClosedFormForInOrderEvents(int stateObjects) {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)), stateObjects);
    List<InteractionEvent> events = events(2_000, 1);
    events.forEach(this::pipe);
    assertRedisMatchesClosedForm(events);
    assertThat(examples.readValuesToList()).hasSize(2_000);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  /**
   * With the app's own Kafka Streams properties, every RocksDB store (the entity and stream-time
   * stores, and the global tables') reports the one bounded cache of {@code rocksdb.memory.bytes}
   * (Kafka Streams' block-cache metric), not a 50 MB cache of its own; and the features are still
   * right.
   */
  @Test
  void everyRocksDbStoreUsesTheAppsBoundedCache() {
    Map<String, String> app = new HashMap<>();
    app.put("bootstrap.servers", "unused:9092");
    app.put("schema.registry.url", "http://127.0.0.1:1");
    app.put("redis.uri", "redis://127.0.0.1:1");
    app.put("state.dir", stateDir.toString());
    appProperties.putAll(FeaturesConfig.from(app).streamsProperties());
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    List<InteractionEvent> events = events(500, 9);
    events.forEach(this::pipe);
    assertRedisMatchesClosedForm(events);

    Map<String, Object> capacityByStore = new HashMap<>();
    driver
        .metrics()
        .forEach(
            (name, metric) -> {
              if (name.name().equals("block-cache-capacity")) {
                capacityByStore.put(name.tags().get("rocksdb-state-id"), metric.metricValue());
              }
            });
    assertThat(capacityByStore)
        .containsKeys(
            "user-features",
            "user-request-snapshots",
            "item-features",
            "validation-stream-time",
            "users-profile")
        .allSatisfy(
            (store, capacity) ->
                assertThat(((Number) capacity).longValue())
                    .as(store)
                    .isEqualTo(FeaturesConfig.DEFAULT_ROCKSDB_MEMORY_BYTES));
  }

  @ParameterizedTest(name = "state objects held per task: {0}")
  @ValueSource(ints = {FeatureTopology.Settings.DEFAULT_STATE_OBJECTS, 3, 0})
  void redisFeaturesEqualTheClosedFormForShuffledArrival(int stateObjects) {
    start(new EventValidator(Duration.ofDays(30), Duration.ofDays(30)), stateObjects);
    List<InteractionEvent> events = events(2_000, 2);
    List<InteractionEvent> shuffled = new ArrayList<>(events);
    Collections.shuffle(shuffled, new Random(3));
    shuffled.forEach(this::pipe);
    assertRedisMatchesClosedForm(events);
  }

  @Test
  void trainingExamplesCarryTheFeaturesFromBeforeTheirOwnEvent() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    List<InteractionEvent> events = events(1_500, 4);
    events.forEach(this::pipe);
    Map<String, TrainingExample> byId = new HashMap<>();
    examples.readValuesToList().forEach(x -> byId.put(x.getInteractionId(), x));
    assertThat(byId).hasSize(events.size());
    for (int k = 0; k < events.size(); k++) {
      InteractionEvent e = events.get(k);
      long t = e.getEventTime().toEpochMilli();
      List<InteractionEvent> userBefore =
          events.subList(0, k).stream().filter(x -> x.getUserId() == e.getUserId()).toList();
      List<InteractionEvent> itemBefore =
          events.subList(0, k).stream().filter(x -> x.getItemId() == e.getItemId()).toList();
      TrainingExample x = byId.get(e.getInteractionId());
      assertThat(x.getClick()).isEqualTo(e.getClick());
      assertThat(x.getItemCategory()).isEqualTo(category(e.getItemId()));
      assertThat(x.getUserFeatures()).hasSize(FeatureSchema.USER.size());
      assertThat(x.getItemFeatures()).hasSize(FeatureSchema.ITEM.size());
      assertThat(x.getCrossFeatures()).hasSize(FeatureSchema.CROSS.size());
      double userClicks = x.getUserFeatures().get(FeatureSchema.USER.indexOf("u_clicks_1h"));
      double itemClicks = x.getItemFeatures().get(FeatureSchema.ITEM.indexOf("i_clicks_1d"));
      double itemImps = x.getItemFeatures().get(FeatureSchema.ITEM.indexOf("i_impressions_7d"));
      // the event's own label is not in its features: only earlier events count
      assertThat(userClicks)
          .isCloseTo(decayed(userBefore, t, HOUR, y -> y.getClick() ? 1 : 0), within(1e-9));
      assertThat(itemClicks)
          .isCloseTo(decayed(itemBefore, t, DAY, y -> y.getClick() ? 1 : 0), within(1e-9));
      assertThat(itemImps).isCloseTo(decayed(itemBefore, t, 7 * DAY, y -> 1), within(1e-9));
      assertThat(x.getUserFeatures().get(FeatureSchema.USER.indexOf("u_lifetime_events")))
          .isEqualTo((double) userBefore.size());
      double accountAgeDays = (t - (T0 - e.getUserId() * 10 * DAY)) / (double) DAY;
      assertThat(x.getUserFeatures().get(FeatureSchema.USER.indexOf("u_account_age_days")))
          .isCloseTo(accountAgeDays, within(1e-9));
      List<InteractionEvent> catBefore =
          userBefore.stream()
              .filter(y -> category(y.getItemId()).equals(category(e.getItemId())))
              .toList();
      assertThat(x.getCrossFeatures().get(FeatureSchema.CROSS.indexOf("uc_impressions_7d")))
          .isCloseTo(decayed(catBefore, t, 7 * DAY, y -> 1), within(1e-9));
    }
  }

  /**
   * feature-spec's in-memory point-in-time examples (what the trainer's tests and benchmark train
   * on) are the topology's own: same features, same context, for every event; whichever format the
   * user side hands the item side the events in ({@code repartition.format}).
   */
  @ParameterizedTest(name = "repartition.format={0}")
  @ValueSource(ints = {1, 2})
  void inMemoryPointInTimeExamplesEqualTheTopologysExamples(int repartitionFormat) {
    start(
        settings(true, FeatureTopology.Settings.DEFAULT_MAX_DEAD_LETTER_BYTES, repartitionFormat),
        null);
    // served feeds: in each block of 12 events, a user's events are the impressions of one request
    List<InteractionEvent> events = new ArrayList<>();
    List<InteractionEvent> plain = events(1_000, 6);
    for (int i = 0; i < plain.size(); i++) {
      InteractionEvent e = plain.get(i);
      events.add(
          i % 100 < 80
              ? copy(e).setRequestId("r-" + i / 12 + "-" + e.getUserId()).build()
              : e); // and some events of no request
    }
    events.forEach(this::pipe);
    Map<String, TrainingExample> byId = new HashMap<>();
    examples.readValuesToList().forEach(x -> byId.put(x.getInteractionId(), x));
    PointInTimeExamples memory = new PointInTimeExamples();
    profiles().forEach(memory::profile);
    catalog().forEach(memory::item);
    for (InteractionEvent e : events) {
      TrainingExample expected = byId.get(e.getInteractionId());
      assertThat(memory.next(e)).as(e.getInteractionId()).isEqualTo(expected);
    }

    // independently: an event's user features are those of the user's events before the first
    // event of its request (before itself, when it has none), replayed here into a plain state.
    // Each request's events span less than an hour, and events of no request come between them
    Map<Long, UserProfile> profileOf = new HashMap<>();
    profiles().forEach(p -> profileOf.put(p.getUserId(), p));
    int siblings = 0;
    for (int k = 0; k < events.size(); k++) {
      InteractionEvent e = events.get(k);
      int first = k;
      if (e.getRequestId() != null) {
        for (int j = 0; j < k && first == k; j++) {
          if (events.get(j).getUserId() == e.getUserId()
              && e.getRequestId().equals(events.get(j).getRequestId())) {
            first = j;
          }
        }
      }
      siblings += first < k ? 1 : 0;
      UserState before = new UserState();
      for (InteractionEvent x : events.subList(0, first)) {
        if (x.getUserId() == e.getUserId()) {
          before.add(x, category(x.getItemId()));
        }
      }
      long t = e.getEventTime().toEpochMilli();
      assertThat(byId.get(e.getInteractionId()).getUserFeatures())
          .as(e.getInteractionId())
          .containsExactly(
              java.util.Arrays.stream(before.features(t, profileOf.get(e.getUserId())))
                  .boxed()
                  .toArray(Double[]::new));
    }
    assertThat(siblings).as("events after the first of their request").isGreaterThan(300);
  }

  /** A request of user 1 at {@code t}: a click on item 1 (sports) at position 0, or another. */
  static InteractionEvent requestEvent(
      String id, long t, long item, boolean click, String request) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(1)
        .setItemId(item)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(click)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(click ? 30f : 1f)
        .setDevice(Device.MOBILE)
        .setRequestId(request)
        .setPosition(request == null ? null : (int) item)
        .build();
  }

  /** User 1's events before their feeds: two, hours before, one of no request. */
  static final List<InteractionEvent> HISTORY =
      List.of(
          requestEvent("h1", T0 - 5 * HOUR, 2, true, null),
          requestEvent("h2", T0 - 4 * HOUR, 4, false, "old"));

  /** {@code events} of user 1 replayed into a plain state: no snapshot logic. */
  static UserState stateOf(List<InteractionEvent> events) {
    UserState s = new UserState();
    events.forEach(e -> s.add(e, category(e.getItemId())));
    return s;
  }

  List<Double> expectedUserFeatures(UserState state, long t) {
    return Arrays.stream(state.features(t, profiles().get(0))).boxed().toList();
  }

  /**
   * Infinite scroll: page 2 (R2) is fetched while page 1's (R1) impressions are still being logged,
   * with an event of no request in between: R1's later impression gets the user's state from before
   * R1 (without R1's click, R2's impression and the other event), as the ranker scored it.
   */
  @Test
  void interleavedRequestsOfOneUserEachGetTheStateFromBeforeTheirOwnRequest() {
    start(new EventValidator(Duration.ofDays(1), Duration.ofDays(7)));
    HISTORY.forEach(this::pipe);
    InteractionEvent r1a = requestEvent("r1a", T0, 1, true, "R1");
    InteractionEvent r2a = requestEvent("r2a", T0 + 1, 3, false, "R2");
    InteractionEvent plain = requestEvent("plain", T0 + 2, 5, true, null);
    InteractionEvent r1b = requestEvent("r1b", T0 + 3, 2, false, "R1");
    List.of(r1a, r2a, plain, r1b).forEach(this::pipe);

    Map<String, TrainingExample> byId = new HashMap<>();
    examples.readValuesToList().forEach(x -> byId.put(x.getInteractionId(), x));
    UserState beforeR1 = stateOf(HISTORY);
    assertThat(byId.get("r1b").getUserFeatures())
        .containsExactlyElementsOf(expectedUserFeatures(beforeR1, T0 + 3));
    assertThat(byId.get("r1b").getCrossFeatures())
        .containsExactlyElementsOf(
            Arrays.stream(beforeR1.crossFeatures(category(2), T0 + 3)).boxed().toList());
    UserState beforeR2 = stateOf(List.of(HISTORY.get(0), HISTORY.get(1), r1a));
    assertThat(byId.get("r2a").getUserFeatures())
        .containsExactlyElementsOf(expectedUserFeatures(beforeR2, T0 + 1));
    assertThat(snapshotsMissed()).isZero();
  }

  /**
   * An event of a request whose snapshot went (the user started {@value RequestSnapshots#REQUESTS}
   * requests since) gets the state as it is, and is counted.
   */
  @Test
  void anEventOfARequestWhoseSnapshotWentIsCounted() {
    start(new EventValidator(Duration.ofDays(1), Duration.ofDays(7)));
    List<InteractionEvent> sent = new ArrayList<>();
    for (int i = 0; i <= RequestSnapshots.REQUESTS; i++) {
      sent.add(requestEvent("r" + i, T0 + i, 1 + i, false, "R" + i));
    }
    sent.forEach(this::pipe);
    InteractionEvent late = requestEvent("late", T0 + 10, 1, true, "R0");
    pipe(late);
    TrainingExample x = examples.readValuesToList().get(sent.size());
    assertThat(x.getUserFeatures())
        .containsExactlyElementsOf(expectedUserFeatures(stateOf(sent), T0 + 10));
    assertThat(snapshotsMissed()).isEqualTo(1.0);
  }

  /**
   * The snapshots are changelogged state: a task restored from its changelogs (a restart, a move to
   * another instance, an aborted transaction processed again) gives a request's later events the
   * user's state from before the request, as the first run would have. Here the second driver's
   * stores get what the first one wrote to the changelogs, which is what a restore writes into them
   * (the test driver restores nothing itself, and deletes its state directory on close).
   */
  @Test
  void aRequestsLaterEventsAfterARestoreFromTheChangelogsGetTheStateFromBeforeTheRequest() {
    FeatureTopology.Settings settings =
        new FeatureTopology.Settings(
            "test-app",
            new EventValidator(Duration.ofDays(1), Duration.ofDays(7)),
            Duration.ofMillis(100));
    start(settings, null);
    HISTORY.forEach(this::pipe);
    InteractionEvent r1a = requestEvent("r1a", T0, 1, true, "R1");
    pipe(r1a);
    Map<String, Map<Long, byte[]>> changelogs = new HashMap<>();
    for (String store : List.of("user-features", "user-request-snapshots")) {
      Map<Long, byte[]> latest = new HashMap<>();
      driver
          .createOutputTopic(
              "feature-topology-test-" + store + "-changelog",
              new LongDeserializer(),
              new ByteArrayDeserializer())
          .readRecordsToList()
          .forEach(r -> latest.put(r.key(), r.value()));
      changelogs.put(store, latest);
    }
    assertThat(changelogs.get("user-request-snapshots")).containsOnlyKeys(1L);
    driver.close();

    start(settings, null);
    KeyValueStore<Long, UserState> users = driver.getKeyValueStore("user-features");
    changelogs.get("user-features").forEach((k, v) -> users.put(k, UserState.fromBytes(v)));
    KeyValueStore<Long, RequestSnapshots> snapshots =
        driver.getKeyValueStore("user-request-snapshots");
    changelogs
        .get("user-request-snapshots")
        .forEach((k, v) -> snapshots.put(k, RequestSnapshots.fromBytes(v)));
    pipe(requestEvent("r1b", T0 + 2, 2, false, "R1"));

    TrainingExample x = examples.readValuesToList().get(0);
    assertThat(x.getInteractionId()).isEqualTo("r1b");
    assertThat(x.getUserFeatures())
        .containsExactlyElementsOf(expectedUserFeatures(stateOf(HISTORY), T0 + 2));
    // the restored user state itself went on from R1's first event
    assertThat(x.getUserFeatures().get(FeatureSchema.USER.indexOf("u_lifetime_events")))
        .isEqualTo(2.0);
    assertThat(users.get(1L).lifetimeEvents()).isEqualTo(4);
  }

  private double snapshotsMissed() {
    var counter = meters.find("features.examples.snapshot.missed").counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void everyValidationRuleRoutesToTheDeadLetterTopicWithTheRawBytes() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent good = events(1, 5).get(0);
    pipe(good); // sets the partition's stream time
    long t = good.getEventTime().toEpochMilli();
    Map<String, byte[][]> bad = new java.util.LinkedHashMap<>();
    bad.put("DESERIALIZATION", new byte[][] {key(1), "not avro at all".getBytes()});
    byte[] badMagic = eventSerializer.serialize(topics.interactions(), good);
    badMagic[0] = 7;
    bad.put("DESERIALIZATION#magic", new byte[][] {key(1), badMagic});
    bad.put("KEY_MISMATCH", new byte[][] {key(999), ser(good)});
    bad.put("KEY_MISMATCH#none", new byte[][] {null, ser(good)});
    bad.put("NEGATIVE_USER_ID", new byte[][] {key(-3), ser(copy(good).setUserId(-3).build())});
    bad.put(
        "NEGATIVE_ITEM_ID",
        new byte[][] {key(good.getUserId()), ser(copy(good).setItemId(-1).build())});
    bad.put(
        "DWELL_OUT_OF_RANGE",
        new byte[][] {key(good.getUserId()), ser(copy(good).setDwellSeconds(3600.5f).build())});
    bad.put(
        "DWELL_OUT_OF_RANGE#nan",
        new byte[][] {key(good.getUserId()), ser(copy(good).setDwellSeconds(Float.NaN).build())});
    bad.put(
        "MISSING_INTERACTION_ID",
        new byte[][] {key(good.getUserId()), ser(copy(good).setInteractionId("").build())});
    bad.put(
        "ID_TOO_LONG",
        new byte[][] {
          key(good.getUserId()), ser(copy(good).setInteractionId("i".repeat(129)).build())
        });
    bad.put(
        "ID_TOO_LONG#request",
        new byte[][] {
          key(good.getUserId()), ser(copy(good).setRequestId("r".repeat(129)).build())
        });
    bad.put(
        "EVENT_TIME_IN_FUTURE",
        new byte[][] {
          key(good.getUserId()),
          ser(copy(good).setEventTime(Instant.ofEpochMilli(t + 2 * HOUR)).build())
        });
    bad.put(
        "EVENT_TIME_TOO_OLD",
        new byte[][] {
          key(good.getUserId()),
          ser(copy(good).setEventTime(Instant.ofEpochMilli(t - 8 * DAY)).build())
        });
    // an "unset" sentinel: stream time minus it overflows, which once let it through to the
    // counters, whose decay then threw on every replay of the record
    bad.put(
        "EVENT_TIME_TOO_OLD#min",
        new byte[][] {
          key(good.getUserId()),
          ser(copy(good).setEventTime(Instant.ofEpochMilli(Long.MIN_VALUE)).build())
        });
    bad.put(
        "EVENT_TIME_TOO_OLD#before1970",
        new byte[][] {
          key(good.getUserId()), ser(copy(good).setEventTime(Instant.ofEpochMilli(-1)).build())
        });
    for (byte[][] kv : bad.values()) {
      interactions.pipeInput(new TestRecord<>(kv[0], kv[1], Instant.ofEpochMilli(t)));
    }
    List<TestRecord<byte[], DeadLetter>> dlq = deadLetters.readRecordsToList();
    assertThat(dlq).hasSize(bad.size());
    int i = 0;
    for (var entry : bad.entrySet()) {
      DeadLetter d = dlq.get(i).value();
      String code = entry.getKey().split("#")[0];
      assertThat(d.getErrorCode()).as(entry.getKey()).isEqualTo(code);
      assertThat(bytes(d.getRawValue())).as(entry.getKey()).isEqualTo(entry.getValue()[1]);
      assertThat(d.getRawKey() == null ? null : bytes(d.getRawKey()))
          .isEqualTo(entry.getValue()[0]);
      assertThat(dlq.get(i).key()).isEqualTo(entry.getValue()[0]);
      assertThat(d.getSourceTopic()).isEqualTo(topics.interactions());
      assertThat(d.getSourceOffset()).isEqualTo(i + 1L); // offset 0 was the good event
      assertThat(d.getErrorMessage()).isNotBlank();
      i++;
    }
    assertThat(dlq.get(5).value().getErrorMessage()).contains("item_id -1");
    assertThat(dlq.get(6).value().getErrorMessage()).contains("dwell_seconds 3600.5");
    assertThat(dlq.get(10).value().getErrorMessage()).contains("request_id has 129 characters");
    // counts in = training examples + dead letters
    assertThat(examples.readValuesToList()).hasSize(1);

    // the longest ids the ranker gives are accepted
    pipe(copy(good).setInteractionId("i".repeat(128)).setRequestId("r".repeat(128)).build());
    assertThat(examples.readValuesToList()).hasSize(1);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  /**
   * An input whose dead letter would be larger than the producer takes is kept cut, with a message
   * saying where the whole record is, and a dead letter that fits is kept whole. A limit of 20,000
   * bytes leaves 20,000 - 8,192 = 11,808 for the key (twice) and the value.
   */
  @Test
  void aDeadLetterTooLargeForTheTopicIsCutToFitAndSaysWhereTheRecordIs() {
    int limit = 20_000;
    start(settings(true, limit), null);
    Random r = new Random(3);
    byte[] bigValue = new byte[30_000];
    r.nextBytes(bigValue);
    bigValue[0] = 9; // not the wire format's magic byte
    byte[] bigKey = new byte[8_000];
    r.nextBytes(bigKey);
    byte[] fitting = new byte[11_000];
    r.nextBytes(fitting);
    fitting[0] = 9;
    long t = T0;
    interactions.pipeInput(new TestRecord<>(key(1), bigValue, Instant.ofEpochMilli(t)));
    interactions.pipeInput(new TestRecord<>(bigKey, "x".getBytes(), Instant.ofEpochMilli(t)));
    interactions.pipeInput(new TestRecord<>(key(2), fitting, Instant.ofEpochMilli(t)));
    // small, but with headers that fill the budget: they are left out, the bytes kept whole
    byte[] small = {9, 1, 2, 3};
    org.apache.kafka.common.header.internals.RecordHeaders big =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    big.add("trace", new byte[15_000]);
    interactions.pipeInput(new TestRecord<>(key(3), small, big, Instant.ofEpochMilli(t)));
    // a valid event's headers do not reach its training example (the user and item sides
    // forward new records), where large ones would not fit either
    InteractionEvent good = events(1, 23).get(0);
    org.apache.kafka.common.header.internals.RecordHeaders huge =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    huge.add("trace", new byte[100_000]);
    interactions.pipeInput(
        new TestRecord<>(
            key(good.getUserId()),
            ser(good),
            huge,
            Instant.ofEpochMilli(good.getEventTime().toEpochMilli())));
    var example = examples.readRecord();
    assertThat(example.value().getInteractionId()).isEqualTo(good.getInteractionId());
    assertThat(example.headers().toArray()).isEmpty();

    List<TestRecord<byte[], DeadLetter>> dlq = deadLetters.readRecordsToList();
    assertThat(dlq).hasSize(4);
    AvroSerializer<DeadLetter> letters = new AvroSerializer<>(registry, true);
    for (TestRecord<byte[], DeadLetter> d : dlq) {
      int size = d.key().length + letters.serialize(topics.deadLetters(), d.value()).length;
      assertThat(size).isLessThanOrEqualTo(limit);
      assertThat(d.value().getErrorCode()).isEqualTo("DESERIALIZATION");
    }
    // the value cut to 11,808 - 2 * 8
    DeadLetter first = dlq.get(0).value();
    assertThat(bytes(first.getRawValue())).isEqualTo(Arrays.copyOf(bigValue, 11_792));
    assertThat(bytes(first.getRawKey())).isEqualTo(key(1));
    assertThat(dlq.get(0).key()).isEqualTo(key(1));
    assertThat(first.getErrorMessage())
        .contains("cut to 8 and 11792 of their 8 and 30000 bytes")
        .endsWith("the whole record is at " + topics.interactions() + "-0@0)");
    // the key cut to a quarter, 2,952 bytes, in the letter and as its record's key
    DeadLetter second = dlq.get(1).value();
    assertThat(bytes(second.getRawKey())).isEqualTo(Arrays.copyOf(bigKey, 2_952));
    assertThat(dlq.get(1).key()).isEqualTo(Arrays.copyOf(bigKey, 2_952));
    assertThat(bytes(second.getRawValue())).isEqualTo("x".getBytes());
    // 2 * 8 + 11,000 fits: whole, and the message says nothing of cutting
    DeadLetter third = dlq.get(2).value();
    assertThat(bytes(third.getRawValue())).isEqualTo(fitting);
    assertThat(third.getErrorMessage()).doesNotContain("cut");
    assertThat(dlq.get(2).headers().toArray()).isEmpty(); // it had none
    DeadLetter fourth = dlq.get(3).value();
    assertThat(bytes(fourth.getRawValue())).isEqualTo(small);
    assertThat(fourth.getErrorMessage())
        .contains("(its headers (15005 bytes) left out to fit the dead-letter topic")
        .doesNotContain("cut");
    assertThat(dlq.get(3).headers().toArray()).isEmpty();
  }

  /**
   * A user hash Redis lost (a restart without persistence, an eviction, the TTL) is written whole
   * again: the next write carries only the categories its events touched, finds the key gone and is
   * refused, and the user is rewritten with every category, as a recomputation from the topic has
   * it.
   */
  @Test
  void aUserHashRedisLostIsWrittenWholeAgain() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent first = events(1, 19).get(0);
    long user = first.getUserId();
    String key = "fr:u:" + user;
    long t = first.getEventTime().toEpochMilli();
    // two categories, an hour apart: items of the catalog whose categories differ
    ItemMetadata a = catalog().get(0);
    ItemMetadata b =
        catalog().stream()
            .filter(m -> !m.getCategory().equals(a.getCategory()))
            .findFirst()
            .orElseThrow();
    pipe(copy(first).setItemId(a.getItemId()).build());
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    pipe(
        copy(first)
            .setInteractionId("second")
            .setItemId(b.getItemId())
            .setEventTime(Instant.ofEpochMilli(t + HOUR))
            .build());
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    // a flush more: the write has landed and the user is no longer pending, so the next write
    // carries only what the next event touches
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    Map<String, String> whole = new HashMap<>(redis.get(key));
    assertThat(whole)
        .containsKeys("c." + a.getCategory() + "._ts", "c." + b.getCategory() + "._ts");

    redis.remove(key); // Redis lost it
    pipe(
        copy(first)
            .setInteractionId("third")
            .setItemId(b.getItemId())
            .setEventTime(Instant.ofEpochMilli(t + 2 * HOUR))
            .build());
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // the partial write: b only, refused
    assertThat(redis).doesNotContainKey(key);
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // the repair: whole
    // category a, which the events since the loss did not touch, is back as it was
    String pa = "c." + a.getCategory() + ".";
    Map<String, String> aFields = new HashMap<>();
    whole.forEach(
        (k, v) -> {
          if (k.startsWith(pa)) {
            aFields.put(k, v);
          }
        });
    assertThat(aFields).hasSize(6);
    assertThat(redis.get(key)).containsAllEntriesOf(aFields);
    assertThat(redis.get(key))
        .containsEntry("lifetime_events", "3")
        .containsEntry("_ts", Long.toString(t + 2 * HOUR));
  }

  /**
   * A user's profile written while their partial write waits for the Redis writer thread (the
   * global table's thread writes every profile as the app starts, while the stream threads flush)
   * is merged with it, and the merged write still leaves out categories: if Redis lost the hash,
   * the user is written whole again, then forgotten. Taken for a whole write, the profile made the
   * merged one whole, and the user's hash stayed without the categories it left out.
   */
  @Test
  void aUserHashRedisLostIsWrittenWholeAgainThoughTheirProfileWasMergedIntoTheWrite()
      throws Exception {
    HeldWriter held = new HeldWriter(writer, false);
    List<FeatureWrite> written = held.written;
    AsyncFeatureWriter async = new AsyncFeatureWriter(held, new FeatureMetrics(meters), 10_000);
    try {
      start(
          new FeatureTopology.Settings(
              "test-app",
              new EventValidator(Duration.ofHours(1), Duration.ofDays(7)),
              Duration.ofMillis(100),
              FeatureTopology.Settings.DEFAULT_STATE_OBJECTS),
          null,
          async);
      KeyValueStore<Long, long[]> pending = driver.getKeyValueStore("user-redis-pending");
      InteractionEvent first = events(1, 19).get(0);
      long user = first.getUserId();
      String key = "fr:u:" + user;
      long t = first.getEventTime().toEpochMilli();
      ItemMetadata a = catalog().get(0);
      ItemMetadata b =
          catalog().stream()
              .filter(m -> !m.getCategory().equals(a.getCategory()))
              .findFirst()
              .orElseThrow();
      pipe(copy(first).setItemId(a.getItemId()).build());
      flushAndWriteAll(async, written);
      pipe(
          copy(first)
              .setInteractionId("second")
              .setItemId(b.getItemId())
              .setEventTime(Instant.ofEpochMilli(t + HOUR))
              .build());
      flushAndWriteAll(async, written);
      flushAndWriteAll(async, written); // the landing heard: the user is no longer pending
      assertThat(pending.get(user)).isNull();
      Map<String, String> whole = new HashMap<>(redis.get(key));

      redis.remove(key); // Redis lost it
      held.holdNext();
      async.write(List.of(new FeatureWrite("fr:i:held", Map.of("n", "1"), 0)));
      held.awaitHeld();
      pipe(
          copy(first)
              .setInteractionId("third")
              .setItemId(b.getItemId())
              .setEventTime(Instant.ofEpochMilli(t + 2 * HOUR))
              .build());
      driver.advanceWallClockTime(Duration.ofSeconds(1)); // the partial write: b only, waiting
      users.pipeInput(user, profiles().get((int) user - 1)); // the profile's write, merged over it
      held.release();
      writeAll(async, written);
      assertThat(written)
          .filteredOn(w -> w.key().equals(key))
          .last()
          .satisfies(
              w ->
                  assertThat(w.fields())
                      .containsKeys("_ts", "country")
                      .doesNotContainKey("c." + a.getCategory() + "._ts"));

      flushAndWriteAll(async, written); // the repair: whole
      String pa = "c." + a.getCategory() + ".";
      Map<String, String> aFields = new HashMap<>();
      whole.forEach(
          (k, v) -> {
            if (k.startsWith(pa)) {
              aFields.put(k, v);
            }
          });
      assertThat(aFields).hasSize(6);
      assertThat(redis.get(key))
          .containsAllEntriesOf(aFields)
          .containsEntry("lifetime_events", "3")
          .containsEntry("country", "C" + user);
      flushAndWriteAll(async, written);
      assertThat(pending.get(user)).isNull();
    } finally {
      driver.close();
      driver = null;
      async.close();
    }
  }

  /** A flush of the topology, then {@link #writeAll}. */
  void flushAndWriteAll(AsyncFeatureWriter async, List<FeatureWrite> written) {
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    writeAll(async, written);
  }

  /**
   * Waits until the writer thread has written all that was submitted and told whom to tell: a
   * marker written after it is written in the same batch or a later one, and a second marker after
   * the first in a batch of its own, which the thread takes only once it has told of the one
   * before.
   */
  static void writeAll(AsyncFeatureWriter async, List<FeatureWrite> written) {
    for (int i = 0; i < 2; i++) {
      FeatureWrite marker = new FeatureWrite("fr:i:marker-" + System.nanoTime(), Map.of(), 0);
      async.write(List.of(marker));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> written.contains(marker));
    }
  }

  /**
   * An item is in Redis with its catalog metadata before its first event (a new item is ranked with
   * its category, age and length, as its first training examples have them), and its first event's
   * write completes the hash with the counters.
   */
  @Test
  void aNewItemIsInRedisWithItsMetadataBeforeItsFirstEvent() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    long id = 987_654;
    ItemMetadata meta =
        ItemMetadata.newBuilder()
            .setItemId(id)
            .setCategory("sports")
            .setCreatedAt(Instant.ofEpochMilli(T0 - DAY))
            .setContentLength(77)
            .build();
    items.pipeInput(id, meta);
    assertThat(redis.get("fr:i:" + id))
        .containsEntry("category", "sports")
        .containsEntry("created_at", Long.toString(T0 - DAY))
        .containsEntry("content_length", "77")
        .doesNotContainKey("_ts");

    InteractionEvent e = copy(events(1, 17).get(0)).setItemId(id).build();
    pipe(e);
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer
    assertThat(redis.get("fr:i:" + id))
        .containsEntry("category", "sports")
        .containsEntry("_ts", Long.toString(e.getEventTime().toEpochMilli()))
        .containsEntry("lifetime_events", "1");
  }

  /**
   * An item's category is a key of the state of every user who sees it (and part of their Redis
   * field names, the repartition record, the training example): one longer than 256 UTF-8 bytes is
   * not kept, so that no user's state can grow past what Kafka takes. The item keeps its other
   * metadata and has no category, as an item whose category is not known; counted. The bound is in
   * bytes: 128 two-byte characters are kept, 129 are not.
   */
  @Test
  void anItemWhoseCategoryIsLongerThanTheBoundIsKeptWithNoCategory() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    String atTheBound = "é".repeat(128); // 256 bytes
    Map<Long, String> categories =
        Map.of(901L, atTheBound, 902L, "é".repeat(129), 903L, "x".repeat(600_000), 904L, "news");
    List<Long> ids = List.of(901L, 902L, 903L, 904L);
    for (long id : ids) {
      items.pipeInput(
          id,
          ItemMetadata.newBuilder()
              .setItemId(id)
              .setCategory(categories.get(id))
              .setCreatedAt(Instant.ofEpochMilli(T0 - DAY))
              .setContentLength((int) id)
              .build());
    }
    assertThat(meters.counter("features.items.category.too.long").count()).isEqualTo(2.0);
    assertThat(redis.get("fr:i:902"))
        .containsEntry("category", "")
        .containsEntry("created_at", Long.toString(T0 - DAY))
        .containsEntry("content_length", "902");

    InteractionEvent template = events(1, 23).get(0);
    for (int i = 0; i < ids.size(); i++) {
      pipe(
          copy(template)
              .setInteractionId("long-" + i)
              .setUserId(1)
              .setItemId(ids.get(i))
              .setEventTime(Instant.ofEpochMilli(T0 + i * MINUTE))
              .setClick(true)
              .build());
    }
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer

    assertThat(deadLetters.isEmpty()).isTrue();
    assertThat(examples.readValuesToList())
        .extracting(TrainingExample::getItemId, TrainingExample::getItemCategory)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(901L, atTheBound),
            org.assertj.core.groups.Tuple.tuple(902L, ""),
            org.assertj.core.groups.Tuple.tuple(903L, ""),
            org.assertj.core.groups.Tuple.tuple(904L, "news"));
    assertThat(redis.get("fr:i:903"))
        .containsEntry("category", "")
        .containsEntry("lifetime_events", "1");
    assertThat(redis.get("fr:i:901")).containsEntry("category", atTheBound);
    assertThat(redis.get("fr:u:1")).containsEntry("lifetime_events", "4");
    // one click each, as of the category's own last event
    assertClose(redis.get("fr:u:1"), "c." + atTheBound + ".clicks_1d", 1.0);
    assertClose(redis.get("fr:u:1"), "c.news.clicks_1d", 1.0);
    assertThat(redis.get("fr:u:1").keySet())
        .filteredOn(k -> k.startsWith("c.") && k.endsWith("._ts"))
        .containsExactlyInAnyOrder("c." + atTheBound + "._ts", "c.news._ts");
  }

  /**
   * A user is in Redis with their profile before their first event (it used to be written only with
   * their first event's state), and the ranker's reading of that hash gives the user row of their
   * first training example: the account's age, not the -1 of an unknown profile, which training
   * never saw for a user with a profile.
   */
  @Test
  void aNewUserIsInRedisWithTheirProfileAndServedAsTheirFirstExampleHasIt() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    long id = 876_543;
    UserProfile profile =
        UserProfile.newBuilder()
            .setUserId(id)
            .setCreatedAt(Instant.ofEpochMilli(T0 - 2 * DAY))
            .setCountry("FR")
            .setPrimaryDevice(Device.MOBILE)
            .build();
    users.pipeInput(id, profile);
    Map<String, String> hash = new HashMap<>(redis.get("fr:u:" + id));
    assertThat(hash)
        .containsEntry("_v", Integer.toString(FeatureSchema.VERSION))
        .containsEntry("country", "FR")
        .containsEntry("primary_device", "MOBILE")
        .containsEntry("created_at", Long.toString(T0 - 2 * DAY))
        .doesNotContainKey("_ts");

    InteractionEvent e = copy(events(1, 17).get(0)).setUserId(id).build();
    long t = e.getEventTime().toEpochMilli();
    double[] served = UserState.fromHash(hash).features(t, UserState.profileFromHash(id, hash));
    assertThat(served[FeatureSchema.USER.indexOf("u_account_age_days")])
        .isCloseTo((t - (T0 - 2 * DAY)) / (double) DAY, within(1e-9));
    pipe(e);
    TrainingExample first = examples.readValuesToList().get(0);
    assertThat(first.getInteractionId()).isEqualTo(e.getInteractionId());
    assertThat(first.getUserFeatures())
        .containsExactly(java.util.Arrays.stream(served).boxed().toArray(Double[]::new));
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer
    assertThat(redis.get("fr:u:" + id))
        .containsEntry("created_at", Long.toString(T0 - 2 * DAY))
        .containsEntry("_ts", Long.toString(t))
        .containsEntry("lifetime_events", "1");
  }

  /**
   * Redis expires a hash {@code redis.ttl.seconds} after its entity's latest event, and the ranker
   * then reads none: the example of an event more than the TTL after its user's or item's latest
   * has the features the ranker built from the hashes as they were (none for that side: no state,
   * no profile, no metadata, so no category for the cross group), not the stored history's; within
   * the TTL it keeps the history. After the event the hashes are whole again, profile and metadata
   * included, and the next event is trained on what is served, history and all. The expected rows
   * are feature-spec's serving side ({@link ServingFeatures}, as the ranker builds them) over what
   * this test's Redis holds at each event, a hash removed once the TTL has passed since its {@code
   * _ts}, as Redis would.
   */
  @Test
  void anEventAfterItsEntitysHashExpiredIsTrainedOnWhatTheRankerServed() {
    Duration ttl = Duration.ofDays(1);
    start(
        new FeatureTopology.Settings(
            "test-app",
            new EventValidator(Duration.ofHours(1), Duration.ofDays(7)),
            Duration.ofMillis(100),
            FeatureTopology.Settings.DEFAULT_STATE_OBJECTS,
            Duration.ZERO,
            true,
            FeatureTopology.Settings.DEFAULT_MAX_DEAD_LETTER_BYTES,
            FeatureTopology.Settings.DEFAULT_REPARTITION_FORMAT,
            FeatureTopology.Settings.DEFAULT_MAX_CATEGORY_BYTES,
            FeatureTopology.Settings.DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK,
            ttl),
        null);
    InteractionEvent template = copy(events(1, 29).get(0)).setClick(true).build();
    long[][] userItemHours = {
      {1, 1, 0}, // both new
      {2, 2, 1},
      {2, 1, 20}, // within the TTL of both: the history
      {1, 1, 26}, // the user's latest was 26 h before: their hash is gone, the item's is not
      {2, 2, 30}, // the item's latest was 29 h before
      {1, 1, 31 * 24}, // both gone
      {1, 1, 31 * 24 + 1} // both written whole again after the one before
    };
    List<Map<String, Map<String, String>>> read = new ArrayList<>();
    List<InteractionEvent> sent = new ArrayList<>();
    List<TrainingExample> trained = new ArrayList<>();
    for (long[] uih : userItemHours) {
      long t = T0 + uih[2] * HOUR;
      String userKey = "fr:u:" + uih[0];
      String itemKey = "fr:i:" + uih[1];
      for (String key : List.of(userKey, itemKey)) {
        Map<String, String> h = redis.get(key);
        if (h != null
            && h.containsKey("_ts")
            && t - Long.parseLong(h.get("_ts")) > ttl.toMillis()) {
          redis.remove(key); // expired
        }
      }
      read.add(
          Map.of(
              userKey,
              new HashMap<>(redis.getOrDefault(userKey, Map.of())),
              itemKey,
              new HashMap<>(redis.getOrDefault(itemKey, Map.of()))));
      sent.add(
          copy(template)
              .setInteractionId("at-" + uih[2])
              .setUserId(uih[0])
              .setItemId(uih[1])
              .setEventTime(Instant.ofEpochMilli(t))
              .build());
      pipe(sent.get(sent.size() - 1));
      trained.addAll(examples.readValuesToList());
      driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer
      driver.advanceWallClockTime(Duration.ofSeconds(1)); // a user's refused write, whole
    }

    assertThat(trained).hasSize(userItemHours.length);
    for (int i = 0; i < trained.size(); i++) {
      TrainingExample x = trained.get(i);
      Map<String, String> userHash = read.get(i).get("fr:u:" + x.getUserId());
      Map<String, String> itemHash = read.get(i).get("fr:i:" + x.getItemId());
      long t = x.getEventTime().toEpochMilli();
      ServingFeatures served = new ServingFeatures(x.getUserId(), userHash, t, x.getDevice());
      float[] servedItem = new float[Vectorizer.ITEM_WIDTH];
      float[] servedCross = new float[Vectorizer.CROSS_WIDTH];
      served.item(x.getItemId(), itemHash, servedItem, 0, servedCross, 0);
      float[] user = new float[Vectorizer.USER_WIDTH];
      float[] item = new float[Vectorizer.ITEM_WIDTH];
      float[] cross = new float[Vectorizer.CROSS_WIDTH];
      Vectorizer.user(unboxed(x.getUserFeatures()), user, 0);
      Vectorizer.item(unboxed(x.getItemFeatures()), item, 0);
      Vectorizer.cross(unboxed(x.getCrossFeatures()), cross, 0);
      String at = x.getInteractionId().toString();
      assertThat(user).as("user row of %s", at).containsExactly(served.userVector());
      assertThat(item).as("item row of %s", at).containsExactly(servedItem);
      assertThat(cross).as("cross row of %s", at).containsExactly(servedCross);
    }
    // not vacuous: the hashes read were gone where the TTL had passed, and held history elsewhere
    int lifetime = FeatureSchema.USER.indexOf("u_lifetime_events");
    int itemLifetime = FeatureSchema.ITEM.indexOf("i_lifetime_events");
    assertThat(trained)
        .extracting(
            x -> x.getUserFeatures().get(lifetime), x -> x.getItemFeatures().get(itemLifetime))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0.0, 0.0),
            org.assertj.core.groups.Tuple.tuple(0.0, 0.0),
            org.assertj.core.groups.Tuple.tuple(1.0, 1.0),
            org.assertj.core.groups.Tuple.tuple(0.0, 2.0),
            org.assertj.core.groups.Tuple.tuple(2.0, 0.0),
            org.assertj.core.groups.Tuple.tuple(0.0, 0.0),
            org.assertj.core.groups.Tuple.tuple(3.0, 4.0));
    assertThat(
            trained.get(3).getUserFeatures().get(FeatureSchema.USER.indexOf("u_account_age_days")))
        .as("no profile read")
        .isEqualTo(-1.0);
    assertThat(trained.get(4).getItemFeatures().get(FeatureSchema.ITEM.indexOf("i_age_days")))
        .as("no metadata read")
        .isEqualTo(-1.0);
    assertThat(
            trained.get(6).getUserFeatures().get(FeatureSchema.USER.indexOf("u_account_age_days")))
        .as("the profile read again")
        .isPositive();
    // the stored history went on: the hashes written after the last event hold it, and the profile
    // and metadata
    assertThat(redis.get("fr:u:1"))
        .containsEntry("lifetime_events", "4")
        .containsEntry("country", "C1")
        .containsKey("created_at");
    assertThat(redis.get("fr:i:1"))
        .containsEntry("lifetime_events", "5")
        .containsEntry("category", category(1))
        .containsEntry("content_length", "10");
    assertThat(meters.counter("features.examples.expired.entity", "side", "user").count())
        .isEqualTo(2.0);
    assertThat(meters.counter("features.examples.expired.entity", "side", "item").count())
        .isEqualTo(2.0);
    // and feature-spec's in-memory examples with the same TTL are the topology's
    PointInTimeExamples memory = new PointInTimeExamples(ttl);
    profiles().forEach(memory::profile);
    catalog().forEach(memory::item);
    for (int i = 0; i < sent.size(); i++) {
      assertThat(memory.next(sent.get(i))).isEqualTo(trained.get(i));
    }
  }

  private static double[] unboxed(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The topology with {@code auto.register.schemas=false}. */
  void startWithoutAutoRegister() {
    start(settings(false, FeatureTopology.Settings.DEFAULT_MAX_DEAD_LETTER_BYTES), null);
  }

  /**
   * With {@code auto.register.schemas=false} (a registry credential that may only read), the
   * outputs' serializers look their schemas up instead of registering them: an example whose
   * subject lacks the schema fails, naming it; once registered, the same event goes through.
   */
  @Test
  void withoutAutoRegisterTheOutputsOnlyLookTheirSchemasUp() {
    startWithoutAutoRegister();
    InteractionEvent e = events(1, 13).get(0);
    assertThatThrownBy(() -> pipe(e))
        .hasStackTraceContaining(
            "is not registered under subject '" + topics.trainingExamples() + "-value'");
    assertThat(
            registry.lookup(topics.trainingExamples() + "-value", TrainingExample.getClassSchema()))
        .isEmpty();
  }

  @Test
  void withoutAutoRegisterARegisteredOutputSchemaIsUsed() {
    registry.register(topics.trainingExamples() + "-value", TrainingExample.getClassSchema());
    registry.register(topics.deadLetters() + "-value", DeadLetter.getClassSchema());
    startWithoutAutoRegister();
    InteractionEvent e = events(1, 13).get(0);
    pipe(e);
    interactions.pipeInput(
        new TestRecord<>(key(e.getUserId()), "not avro".getBytes(), e.getEventTime()));
    assertThat(examples.readValuesToList()).hasSize(1);
    assertThat(deadLetters.readValuesToList()).hasSize(1);
  }

  /**
   * The items and users tables are kept from the producers' records as they are, under the
   * producers' schemas, and the app registers nothing for them: with a registry credential that may
   * only read ({@code auto.register.schemas=false}, every register refused 403), and with one that
   * may write. Here the producers of {@code items} write an older ItemMetadata (no creator_id) and
   * those of {@code users} a newer UserProfile (a field more) than the app's compiled ones, which
   * those subjects do not hold. The tables' stores kept each value serialized again with the
   * compiled schema, registered as a version of the producers' subject: refused, that failed the
   * global thread (at every start too, as the tables are restored through the same processor);
   * allowed, it added the compiled schemas to the producers' subjects.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void tableRecordsAreKeptUnderTheProducersSchemasAndNothingIsRegistered(boolean autoRegister) {
    Schema olderItem = ProducerSchemas.withoutField(ItemMetadata.getClassSchema(), "creator_id");
    Schema newerProfile = ProducerSchemas.withLanguage(UserProfile.getClassSchema());
    int itemSchemaId = registry.register(topics.items() + "-value", olderItem);
    int profileSchemaId = registry.register(topics.users() + "-value", newerProfile);
    registry.register(topics.interactions() + "-value", InteractionEvent.getClassSchema());
    registry.register(topics.trainingExamples() + "-value", TrainingExample.getClassSchema());
    registry.register(topics.deadLetters() + "-value", DeadLetter.getClassSchema());
    startDriver(
        settings(autoRegister, FeatureTopology.Settings.DEFAULT_MAX_DEAD_LETTER_BYTES),
        null,
        writer,
        autoRegister ? registry : new ReadOnlyRegistry(registry));
    var itemRecords =
        driver.createInputTopic(topics.items(), new LongSerializer(), new ByteArraySerializer());
    var userRecords =
        driver.createInputTopic(topics.users(), new LongSerializer(), new ByteArraySerializer());

    long user = 3;
    long item = 12;
    Instant userCreated = Instant.ofEpochMilli(T0 - 40 * DAY);
    var meta = new GenericData.Record(olderItem);
    meta.put("item_id", item);
    meta.put("category", "gardening");
    meta.put("created_at", T0 - 3 * DAY);
    meta.put("content_length", 42);
    itemRecords.pipeInput(item, ProducerSchemas.wire(itemSchemaId, meta));
    var profile = new GenericData.Record(newerProfile);
    profile.put("user_id", user);
    profile.put("created_at", userCreated.toEpochMilli());
    profile.put("country", "PT");
    profile.put(
        "primary_device",
        new GenericData.EnumSymbol(newerProfile.getField("primary_device").schema(), "TABLET"));
    profile.put("language", "pt");
    userRecords.pipeInput(user, ProducerSchemas.wire(profileSchemaId, profile));

    InteractionEvent e = copy(events(1, 29).get(0)).setUserId(user).setItemId(item).build();
    pipe(e);
    driver.advanceWallClockTime(Duration.ofSeconds(1)); // flush to the writer

    TrainingExample example = examples.readValue();
    assertThat(example.getItemCategory()).isEqualTo("gardening");
    long t = e.getEventTime().toEpochMilli();
    assertThat(example.getUserFeatures().get(FeatureSchema.USER.indexOf("u_account_age_days")))
        .isCloseTo((t - userCreated.toEpochMilli()) / (double) DAY, within(1e-9));
    assertThat(example.getItemFeatures().get(FeatureSchema.ITEM.indexOf("i_content_length")))
        .isEqualTo(42.0);
    assertThat(redis.get("fr:u:" + user))
        .containsEntry("country", "PT")
        .containsEntry("primary_device", "TABLET")
        .containsEntry("lifetime_events", "1");
    assertThat(redis.get("fr:i:" + item))
        .containsEntry("category", "gardening")
        .containsEntry("content_length", "42")
        .containsEntry("lifetime_events", "1");
    assertThat(registry.latest(topics.items() + "-value").orElseThrow().id())
        .as("the latest schema id under items-value")
        .isEqualTo(itemSchemaId);
    assertThat(registry.latest(topics.users() + "-value").orElseThrow().id())
        .as("the latest schema id under users-value")
        .isEqualTo(profileSchemaId);
  }

  /**
   * A registry as a credential that may only read sees it: lookups and schemas by id answered from
   * {@code schemas}, every register refused with 403.
   */
  private record ReadOnlyRegistry(SchemaRegistryClient schemas) implements SchemaRegistryClient {
    @Override
    public int register(String subject, Schema schema) {
      throw new SchemaRegistryException(
          "HTTP 403 (User is denied operation Write on Subject: " + subject + ")",
          403,
          40301,
          null);
    }

    @Override
    public Optional<Integer> lookup(String subject, Schema schema) {
      return schemas.lookup(subject, schema);
    }

    @Override
    public Schema schemaById(int id) {
      return schemas.schemaById(id);
    }

    @Override
    public Optional<RegisteredSchema> latest(String subject) {
      return schemas.latest(subject);
    }

    @Override
    public void setCompatibility(String subject, String level) {
      throw new SchemaRegistryException("HTTP 403", 403, 40301, null);
    }

    @Override
    public Optional<String> compatibility(String subject) {
      return schemas.compatibility(subject);
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
      return schemas.isCompatible(subject, schema);
    }
  }

  /**
   * "Ahead" is measured from the later of stream time and the record's own timestamp: after a quiet
   * spell longer than the bound, events sent at their event time are accepted and stream time moves
   * on; an event stamped hours past the time its record was sent is refused, also as a partition's
   * first event (which would otherwise set a stream time that refuses everything after it as old).
   */
  @Test
  void aPartitionQuietForLongerThanTheAheadBoundAcceptsItsNextEvents() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent first = events(1, 7).get(0);
    long t = first.getEventTime().toEpochMilli();
    // the first event of the partition claims to be 2 h past the time it was sent
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(first), Instant.ofEpochMilli(t - 2 * HOUR)));
    pipe(first);
    // three quiet hours, then events sent when they happen
    InteractionEvent afterQuiet =
        copy(first)
            .setInteractionId("after-quiet")
            .setEventTime(Instant.ofEpochMilli(t + 3 * HOUR))
            .build();
    pipe(afterQuiet);
    InteractionEvent next =
        copy(first)
            .setInteractionId("next")
            .setEventTime(Instant.ofEpochMilli(t + 3 * HOUR + MINUTE))
            .build();
    pipe(next);
    // sent now, stamped 90 minutes ahead: beyond both stream time and its record's timestamp
    InteractionEvent future =
        copy(first)
            .setInteractionId("future")
            .setEventTime(Instant.ofEpochMilli(t + 4 * HOUR + 31 * MINUTE))
            .build();
    interactions.pipeInput(
        new TestRecord<>(
            key(first.getUserId()), ser(future), Instant.ofEpochMilli(t + 3 * HOUR + MINUTE)));
    // within the bound of its record's timestamp although 2 h ahead of stream time
    InteractionEvent lateSent =
        copy(first)
            .setInteractionId("late-sent")
            .setEventTime(Instant.ofEpochMilli(t + 5 * HOUR + MINUTE))
            .build();
    interactions.pipeInput(
        new TestRecord<>(
            key(first.getUserId()),
            ser(lateSent),
            Instant.ofEpochMilli(t + 4 * HOUR + 30 * MINUTE)));

    List<DeadLetter> dlq = deadLetters.readValuesToList();
    assertThat(dlq)
        .extracting(DeadLetter::getErrorCode)
        .containsExactly("EVENT_TIME_IN_FUTURE", "EVENT_TIME_IN_FUTURE");
    assertThat(dlq.get(0).getErrorMessage()).contains("ahead of its record's timestamp");
    assertThat(dlq.get(1).getErrorMessage()).contains("ahead of stream time");
    assertThat(bytes(dlq.get(1).getRawValue())).isEqualTo(ser(future));
    assertThat(examples.readValuesToList())
        .extracting(TrainingExample::getInteractionId)
        .containsExactly(first.getInteractionId(), "after-quiet", "next", "late-sent");
  }

  /**
   * A client whose clock is a month fast sends an event stamped a month ahead, record timestamp and
   * all (a broker that takes any timestamp lets it through): it is refused against the wall clock,
   * and the partition's events of the present that follow it are still accepted. Accepted, it would
   * have moved stream time a month on and every later event would be "too old".
   */
  @Test
  void anEventFarAheadOfTheClockIsRefusedAndDoesNotMoveStreamTime() {
    InteractionEvent first = events(1, 9).get(0);
    long t = first.getEventTime().toEpochMilli();
    // the wall clock reads the first event's time
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7), Duration.ofDays(1), () -> t));
    pipe(first);
    InteractionEvent fast =
        copy(first)
            .setInteractionId("fast-clock")
            .setEventTime(Instant.ofEpochMilli(t + 31 * DAY))
            .build();
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(fast), Instant.ofEpochMilli(t + 31 * DAY)));
    InteractionEvent present =
        copy(first)
            .setInteractionId("present")
            .setEventTime(Instant.ofEpochMilli(t + MINUTE))
            .build();
    pipe(present);
    // within a day of the clock (a simulation a few hours ahead of it) is still taken
    InteractionEvent simulated =
        copy(first)
            .setInteractionId("simulated")
            .setEventTime(Instant.ofEpochMilli(t + 20 * HOUR))
            .build();
    interactions.pipeInput(
        new TestRecord<>(
            key(first.getUserId()), ser(simulated), Instant.ofEpochMilli(t + 20 * HOUR)));

    List<DeadLetter> dlq = deadLetters.readValuesToList();
    assertThat(dlq).extracting(DeadLetter::getErrorCode).containsExactly("EVENT_TIME_IN_FUTURE");
    assertThat(dlq.get(0).getErrorMessage()).contains("PT24H ahead of the clock");
    assertThat(examples.readValuesToList())
        .extracting(TrainingExample::getInteractionId)
        .containsExactly(first.getInteractionId(), "present", "simulated");
  }

  /**
   * Kafka Streams 4.3.1 reads a global table's records at their own timestamps, with no timestamp
   * extractor ({@code GlobalStateUpdateTask.update}), and a record without one (-1) is refused
   * there: "Malformed Record". Nothing in the topology can change that, so the app's global
   * consumer restamps such records before Kafka Streams sees them ({@code
   * TableTimestampInterceptor}, which the driver does not run). Should this ever pass, Kafka
   * Streams reads them itself and the interceptor can go.
   */
  @ParameterizedTest
  @ValueSource(strings = {"users", "items"})
  void kafkaStreamsRefusesATableRecordWithoutATimestamp(String table) {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    Instant none = Instant.ofEpochMilli(-1);
    assertThatThrownBy(
            () -> {
              if (table.equals("users")) {
                UserProfile p = profiles().get(0);
                users.pipeInput(new TestRecord<>(p.getUserId(), p, none));
              } else {
                ItemMetadata m = catalog().get(0);
                items.pipeInput(new TestRecord<>(m.getItemId(), m, none));
              }
            })
        .hasMessageContaining("Malformed Record");
  }

  /**
   * A record without a timestamp (-1, as a producer of an old message format sends) once failed the
   * stream thread in Kafka Streams' default timestamp extractor, and its replacement on the same
   * record, for ever. As a partition's first record it is processed at the wall clock.
   */
  @Test
  void aPartitionsFirstRecordWithoutATimestampIsProcessedAtTheClock() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent e = events(1, 13).get(0);
    long before = System.currentTimeMillis();
    interactions.pipeInput(new TestRecord<>(key(e.getUserId()), ser(e), Instant.ofEpochMilli(-1)));
    long after = System.currentTimeMillis();

    List<TestRecord<Long, TrainingExample>> out = examples.readRecordsToList();
    assertThat(out).extracting(r -> r.value().getInteractionId()).containsExactly("e-13-0");
    assertThat(out.get(0).timestamp()).isBetween(before, after);
    assertThat(deadLetters.isEmpty()).isTrue();
    assertRedisMatchesClosedForm(List.of(e));
    assertThat(restamped("none")).isEqualTo(1);
  }

  /**
   * A record without a timestamp after others is processed, and its outputs stamped, at the
   * partition's time (the latest timestamp its records were processed at), and the event judged as
   * one whose record has no timestamp: "ahead" is measured from stream time alone. Its dead letter
   * says it had none (a null {@code source_timestamp}).
   */
  @Test
  void aRecordWithoutATimestampIsJudgedByStreamTimeAndProcessedAtThePartitionsTime() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent first = events(1, 17).get(0);
    long t = first.getEventTime().toEpochMilli();
    long sent = t + 50 * MINUTE; // the partition's time from here on
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(first), Instant.ofEpochMilli(sent)));
    InteractionEvent untimed = at(first, "untimed", t + 5 * MINUTE);
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(untimed), Instant.ofEpochMilli(-1)));
    // 85 min ahead of stream time (untimed's event time), 40 min ahead of the partition's time
    InteractionEvent ahead = at(first, "ahead", t + 90 * MINUTE);
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(ahead), Instant.ofEpochMilli(-1)));
    InteractionEvent badDwell =
        copy(at(first, "bad-dwell", t + 6 * MINUTE)).setDwellSeconds(-1f).build();
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(badDwell), Instant.ofEpochMilli(-1)));

    List<TestRecord<Long, TrainingExample>> out = examples.readRecordsToList();
    assertThat(out)
        .extracting(r -> r.value().getInteractionId())
        .containsExactly(first.getInteractionId(), "untimed");
    assertThat(out).extracting(TestRecord::timestamp).containsExactly(sent, sent);
    List<TestRecord<byte[], DeadLetter>> dlq = deadLetters.readRecordsToList();
    assertThat(dlq)
        .extracting(r -> r.value().getErrorCode())
        .containsExactly("EVENT_TIME_IN_FUTURE", "DWELL_OUT_OF_RANGE");
    assertThat(dlq.get(0).value().getErrorMessage())
        .contains("ahead of stream time " + Instant.ofEpochMilli(t + 5 * MINUTE));
    assertThat(dlq).extracting(r -> r.value().getSourceTimestamp()).containsOnlyNulls();
    assertThat(dlq).extracting(TestRecord::timestamp).containsOnly(sent);
    assertThat(dlq.get(1).value().getSourceOffset()).isEqualTo(3L);
    assertThat(restamped("none")).isEqualTo(3);
  }

  /**
   * A record stamped two hours ahead of the clock, on an {@code interactions} topic whose {@code
   * message.timestamp.after.max.ms} was raised: the event is judged by that timestamp (within an
   * hour of it: accepted), but the records it makes, whose topics take at most an hour by default,
   * are stamped at the clock plus {@code output.max.ahead.of.clock.ms} (1 min by default). A record
   * the broker refused failed the stream thread at every replay. Its dead letter keeps the record's
   * own timestamp.
   */
  @Test
  void aRecordStampedAheadOfTheClockIsJudgedByItsTimestampAndItsOutputsStampedAtTheClock() {
    start(new EventValidator(Duration.ofHours(1), Duration.ofDays(7)));
    InteractionEvent first = events(1, 19).get(0);
    long before = System.currentTimeMillis();
    long ahead = before + 2 * HOUR;
    InteractionEvent early = at(first, "early", ahead - MINUTE);
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(early), Instant.ofEpochMilli(ahead)));
    InteractionEvent badDwell = copy(at(first, "bad-dwell", ahead)).setDwellSeconds(-1f).build();
    interactions.pipeInput(
        new TestRecord<>(key(first.getUserId()), ser(badDwell), Instant.ofEpochMilli(ahead)));
    long after = System.currentTimeMillis();
    long bound = FeatureTopology.Settings.DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK.toMillis();

    List<TestRecord<Long, TrainingExample>> out = examples.readRecordsToList();
    assertThat(out).extracting(r -> r.value().getInteractionId()).containsExactly("early");
    List<TestRecord<byte[], DeadLetter>> dlq = deadLetters.readRecordsToList();
    assertThat(dlq).extracting(r -> r.value().getErrorCode()).containsExactly("DWELL_OUT_OF_RANGE");
    assertThat(dlq.get(0).value().getSourceTimestamp()).isEqualTo(Instant.ofEpochMilli(ahead));
    assertThat(out.get(0).timestamp()).isBetween(before + bound, after + bound);
    assertThat(dlq.get(0).timestamp()).isBetween(before + bound, after + bound);
    // and so is every record it made: the repartition topic's and the changelogs' too
    Map<String, Integer> made = new HashMap<>();
    for (String topic : driver.producedTopicNames()) {
      for (var r :
          driver
              .createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer())
              .readRecordsToList()) {
        assertThat(r.timestamp()).as(topic).isBetween(before + bound, after + bound);
        made.merge(topic, 1, Integer::sum);
      }
    }
    assertThat(made)
        .containsKeys(
            FeatureTopology.repartitionTopic("feature-topology-test"),
            "feature-topology-test-validation-stream-time-changelog",
            "feature-topology-test-user-features-changelog",
            "feature-topology-test-item-features-changelog");
    assertThat(restamped("ahead_of_clock")).isEqualTo(2);
  }

  private double restamped(String timestamp) {
    var counter = meters.find("features.events.restamped").tag("timestamp", timestamp).counter();
    return counter == null ? 0 : counter.count();
  }

  /**
   * While a task's records are more than the catch-up interval behind the wall clock, its changes
   * reach Redis at most that often; once it processes recent records, at every 100 ms punctuation
   * again.
   */
  @Test
  void aTaskBehindTheWallClockFlushesAtTheCatchUpInterval() {
    long wall = T0 + DAY;
    start(
        new FeatureTopology.Settings(
            "test-app",
            new EventValidator(Duration.ofDays(2), Duration.ofDays(7)),
            Duration.ofMillis(100),
            FeatureTopology.Settings.DEFAULT_STATE_OBJECTS,
            Duration.ofSeconds(1)),
        Instant.ofEpochMilli(wall));
    InteractionEvent first = events(1, 11).get(0);
    String key = "fr:u:" + first.getUserId();
    long t = first.getEventTime().toEpochMilli();
    pipe(first);
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(redis.get(key)).as("the first flush is due").containsEntry("_ts", Long.toString(t));
    pipe(at(first, "old-1", t + MINUTE));
    for (int i = 0; i < 9; i++) { // up to 900 ms after the last flush: a day behind, not due
      driver.advanceWallClockTime(Duration.ofMillis(100));
      assertThat(redis.get(key)).containsEntry("_ts", Long.toString(t));
    }
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(redis.get(key)).containsEntry("_ts", Long.toString(t + MINUTE));
    // a record of now: the task has caught up, and the next punctuation flushes
    long now = wall + 1_000;
    pipe(at(first, "recent", now));
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(redis.get(key)).containsEntry("_ts", Long.toString(now));
    pipe(at(first, "recent-2", now + 150));
    driver.advanceWallClockTime(Duration.ofMillis(100));
    assertThat(redis.get(key)).containsEntry("_ts", Long.toString(now + 150));
  }

  private static InteractionEvent at(InteractionEvent e, String id, long millis) {
    return copy(e).setInteractionId(id).setEventTime(Instant.ofEpochMilli(millis)).build();
  }

  private byte[] ser(InteractionEvent e) {
    return eventSerializer.serialize(topics.interactions(), e);
  }

  private static InteractionEvent.Builder copy(InteractionEvent e) {
    return InteractionEvent.newBuilder(e);
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
