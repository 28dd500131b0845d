package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.registry.InMemorySchemaRegistryClient;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureSink;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.validation.EventValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bookkeeping that keeps Redis in step with committed state: an entity is written again after
 * every change, a write still on its way is not sent twice, and an entity is forgotten only when
 * the write of its latest change has landed — late events included.
 */
class PendingRedisWritesTest {
  static final Instant T = Instant.parse("2026-11-02T10:00:00Z");

  /** Holds submitted writes until the test lands them. */
  static final class HoldingSink implements FeatureWriter, FeatureSink {
    record Held(FeatureWrite write, Consumer<FeatureWrite> landed) {}

    final List<Held> held = new ArrayList<>();

    /** Every batch submitted, taken or refused. */
    final List<List<FeatureWrite>> submitted = new ArrayList<>();

    /** Whether it says it has room (else it refuses too: the writer full). */
    boolean room = true;

    /** Whether it refuses though it said it had room (another stream thread took the room). */
    boolean refusing;

    @Override
    public boolean hasRoom() {
      return room;
    }

    @Override
    public void submit(List<FeatureWrite> batch, Consumer<FeatureWrite> landed) {
      submitted.add(batch);
      if (!room || refusing) {
        throw new IllegalStateException("no room");
      }
      batch.forEach(w -> held.add(new Held(w, landed)));
    }

    @Override
    public void write(List<FeatureWrite> batch) {
      throw new UnsupportedOperationException("the topology submits through FeatureSink");
    }

    List<Held> forKey(String key) {
      return held.stream().filter(h -> h.write().key().equals(key)).toList();
    }

    void land(Held h) {
      h.landed().accept(h.write());
    }
  }

  @TempDir(factory = StateDirFactory.class)
  Path stateDir;

  final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  final HoldingSink sink = new HoldingSink();
  TopologyTestDriver driver;
  TestInputTopic<byte[], byte[]> interactions;
  final TopicNames topics = TopicNames.defaults();

  @BeforeEach
  void start() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "pending-writes-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    FeatureTopology.Settings settings =
        new FeatureTopology.Settings(
            "test",
            new EventValidator(Duration.ofDays(1), Duration.ofDays(1)),
            Duration.ofMillis(100));
    driver =
        new TopologyTestDriver(
            FeatureTopology.build(
                topics, settings, sink, registry, new FeatureMetrics(new SimpleMeterRegistry())),
            props);
    interactions =
        driver.createInputTopic(
            topics.interactions(), new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  void pipe(long userId, Instant at) {
    InteractionEvent e =
        InteractionEvent.newBuilder()
            .setInteractionId("e-" + at.toEpochMilli())
            .setUserId(userId)
            .setItemId(7)
            .setEventTime(at)
            .setClick(true)
            .setLike(false)
            .setShare(false)
            .setDwellSeconds(2f)
            .setDevice(Device.MOBILE)
            .build();
    byte[] key = ByteBuffer.allocate(8).putLong(userId).array();
    interactions.pipeInput(
        new TestRecord<>(
            key,
            new AvroSerializer<InteractionEvent>(registry, true)
                .serialize(topics.interactions(), e),
            at));
  }

  void flush() {
    driver.advanceWallClockTime(Duration.ofMillis(150));
  }

  @Test
  void aLateEventAfterASubmissionIsWrittenAndTheEntityIsForgottenOnlyAfterItsLastWriteLands() {
    pipe(1, T);
    flush();
    assertThat(sink.forKey("fr:u:1")).hasSize(1);
    assertThat(sink.forKey("fr:u:1").get(0).write().fields()).containsEntry("lifetime_events", "1");

    flush(); // not landed yet, but already on its way: not sent again
    assertThat(sink.forKey("fr:u:1")).hasSize(1);

    pipe(1, T.minusSeconds(600)); // late: inside the time range already submitted
    flush();
    assertThat(sink.forKey("fr:u:1")).hasSize(2);
    assertThat(sink.forKey("fr:u:1").get(1).write().fields()).containsEntry("lifetime_events", "2");

    sink.land(
        sink.forKey("fr:u:1").get(0)); // the older write lands: the newer change is still pending
    flush();
    assertThat(sink.forKey("fr:u:1")).hasSize(2);

    sink.land(sink.forKey("fr:u:1").get(1));
    flush();
    flush();
    assertThat(sink.forKey("fr:u:1")).as("forgotten once its latest write landed").hasSize(2);

    pipe(1, T.plusSeconds(60)); // a new change is written again
    flush();
    assertThat(sink.forKey("fr:u:1")).hasSize(3);
    assertThat(sink.forKey("fr:u:1").get(2).write().fields()).containsEntry("lifetime_events", "3");
  }

  /**
   * What a crash leaves for the next owner of the task: the pending store (its changelog) names
   * every entity not yet written, with the earliest event time not written — the user hash's
   * categories are rendered from it — out-of-order events included, until the write lands.
   */
  @Test
  void thePendingStoreNamesEachUnwrittenEntityWithItsEarliestUnwrittenEventTime() {
    // FeatureTopology.USER_PENDING_STORE / ITEM_PENDING_STORE
    KeyValueStore<Long, long[]> users = driver.getKeyValueStore("user-redis-pending");
    KeyValueStore<Long, long[]> items = driver.getKeyValueStore("item-redis-pending");
    pipe(1, T);
    pipe(1, T.plusSeconds(60));
    assertThat(users.get(1L)[0]).isEqualTo(T.toEpochMilli());
    assertThat(items.get(7L)[0]).isEqualTo(T.toEpochMilli());
    pipe(1, T.minusSeconds(300)); // out of order: the earliest unwritten time moves back
    assertThat(users.get(1L)[0]).isEqualTo(T.minusSeconds(300).toEpochMilli());
    assertThat(items.get(7L)[0]).isEqualTo(T.minusSeconds(300).toEpochMilli());

    flush();
    assertThat(users.get(1L)).as("submitted, not landed: still pending").isNotNull();
    sink.land(sink.forKey("fr:u:1").get(0));
    sink.land(sink.forKey("fr:i:7").get(0));
    flush();
    assertThat(users.get(1L)).as("forgotten once its write landed").isNull();
    assertThat(items.get(7L)).isNull();

    pipe(1, T.plusSeconds(120)); // pending again, from this event on
    assertThat(users.get(1L)[0]).isEqualTo(T.plusSeconds(120).toEpochMilli());
  }

  /**
   * Every write of a user carries as its base the events their hash held at the last landed write:
   * the count the earliest event not yet written starts from (the writer refuses a partial write
   * over an older copy of the hash, one with fewer). It moves only when the user's latest write
   * lands and they are forgotten, not when an earlier one does: the write still to land carries the
   * categories since the earliest event not written, which the hash lacks below that base.
   */
  @Test
  void eachWriteCarriesTheEventCountOfTheLastLandedWriteAsItsBase() {
    KeyValueStore<Long, long[]> pending = driver.getKeyValueStore("user-redis-pending");
    pipe(1, T);
    flush();
    sink.land(sink.forKey("fr:u:1").get(0));
    flush(); // forgotten: its hash holds 1 event
    assertThat(sink.forKey("fr:u:1").get(0).write().baseEvents()).isZero();

    pipe(1, T.plusSeconds(60));
    assertThat(pending.get(1L)).as("the base is kept in the pending store").endsWith(1L);
    flush();
    pipe(1, T.plusSeconds(120));
    flush();
    sink.land(sink.forKey("fr:u:1").get(1)); // an earlier write lands: the user is still pending
    pipe(1, T.plusSeconds(180));
    flush();
    assertThat(sink.forKey("fr:u:1").stream().map(h -> h.write().baseEvents()))
        .containsExactly(0L, 1L, 1L, 1L);

    sink.land(sink.forKey("fr:u:1").get(3));
    flush(); // forgotten: its hash holds 4 events
    pipe(1, T.plusSeconds(240));
    flush();
    assertThat(sink.forKey("fr:u:1")).hasSize(5);
    assertThat(sink.forKey("fr:u:1").get(4).write().baseEvents()).isEqualTo(4);
    assertThat(sink.forKey("fr:u:1").get(4).write().fields()).containsEntry("lifetime_events", "5");
  }

  /**
   * A flush submits what the writer has room for and nothing more: without room it renders and
   * submits nothing (a stream thread waiting on a full writer held its transaction open, each of
   * its tasks in turn), and a refused batch ends it. What was not taken stays pending, and is
   * written at a later flush, then forgotten as it lands.
   */
  @Test
  void aFlushSubmitsOnlyWhatTheWriterHasRoomForAndKeepsTheRestPending() {
    KeyValueStore<Long, long[]> pending = driver.getKeyValueStore("user-redis-pending");
    int users = 1_500; // two batches of at most 1,000 (DirtyEntities.MAX_BATCH)
    for (long u = 1; u <= users; u++) {
      pipe(u, T.plusMillis(u));
    }

    sink.room = false;
    flush();
    assertThat(userBatchSizes()).as("no room: nothing submitted").isEmpty();

    sink.room = true;
    sink.refusing = true;
    flush();
    assertThat(userBatchSizes()).as("refused: the rest not submitted").containsExactly(1_000);

    sink.refusing = false;
    flush();
    assertThat(userBatchSizes()).containsExactly(1_000, 1_000, 500);
    List<HoldingSink.Held> taken =
        sink.held.stream().filter(h -> h.write().key().startsWith("fr:u:")).toList();
    assertThat(taken.stream().map(h -> h.write().key()).distinct()).hasSize(users);
    assertThat(count(pending)).as("taken, not landed: all still pending").isEqualTo(users);

    taken.forEach(sink::land);
    flush();
    assertThat(count(pending)).as("forgotten once landed").isZero();
  }

  List<Integer> userBatchSizes() {
    return sink.submitted.stream()
        .filter(b -> b.get(0).key().startsWith("fr:u:"))
        .map(List::size)
        .toList();
  }

  static int count(KeyValueStore<Long, long[]> store) {
    int n = 0;
    try (var it = store.all()) {
      for (; it.hasNext(); it.next()) {
        n++;
      }
    }
    return n;
  }

  // That the pending set survives a crash (restored from its changelog by the next owner of the
  // task) needs real changelog topics, which TopologyTestDriver does not have: FeaturesCrashIT
  // covers it, and fails when the pending stores' changelogs are disabled.
}
