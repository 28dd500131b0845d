package io.feedrank.streams.topology;

import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.examples.HashExpiry;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.streams.TopicNames;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureWriter;
import io.feedrank.streams.validation.EventValidator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;

/**
 * The features application as a pure function of its inputs; {@code Main} runs it, tests run the
 * same topology in {@code TopologyTestDriver} or against the local stack.
 *
 * <pre>
 * interactions (bytes) ─ validate ─┬─ dead letters ────────────────────────────────▶ interactions-dlq
 *                                  └─ user + user-category features (by user_id)
 *                                       ─ repartition by item_id ─ item features ──▶ training-examples
 * items, users ─▶ global tables (category, created_at, content length; profile)  ──▶ Redis (fr:u:*, fr:i:*)
 * </pre>
 *
 * <p>Each record out (training example, dead letter, repartition and changelog records) is stamped
 * with the timestamp its interaction record was processed at, which {@link
 * BoundedTimestampExtractor} decides: the record's own, unless it has none or is too far ahead of
 * the clock for the brokers to take.
 */
public final class FeatureTopology {
  static final String STREAM_TIME_STORE = "validation-stream-time";
  static final String USER_STORE = "user-features";
  static final String REQUESTS_STORE = "user-request-snapshots";
  static final String ITEM_STORE = "item-features";
  static final String ITEMS_STORE = "items-metadata";
  static final String USERS_STORE = "users-profile";
  static final String USER_PENDING_STORE = "user-redis-pending";
  static final String ITEM_PENDING_STORE = "item-redis-pending";
  static final String BY_ITEM = "by-item";

  /**
   * The topic the user side hands each event to the item side through, as Kafka Streams names it.
   */
  public static String repartitionTopic(String applicationId) {
    return applicationId + "-" + BY_ITEM + "-repartition";
  }

  /**
   * @param application the application id, recorded in dead letters
   * @param validator the validation rules
   * @param redisFlushInterval how often (wall clock) changed entities are written to Redis
   * @param catchUpFlushInterval how often instead while a task's records are more than this behind
   *     the wall clock ({@link FlushSchedule}; zero = always {@code redisFlushInterval})
   * @param stateObjects how many users' and how many items' deserialized states (and users' request
   *     snapshots) each task keeps in front of its stores besides those changed since the last
   *     commit ({@link WriteBackStore}; 0 = none)
   * @param autoRegisterSchemas whether the outputs' serializers (training examples, dead letters)
   *     register their schema when the subject lacks it, or only look it up; the items and users
   *     tables register nothing either way ({@link TableRecord})
   * @param maxDeadLetterBytes the largest dead letter the producer and the dead-letter topic take
   *     (the producer's {@code max.request.size}); an input whose raw bytes would make a larger one
   *     is kept cut ({@link ValidateProcessor})
   * @param repartitionFormat the format the user side writes to the repartition topic ({@link
   *     HalfExample}): 2, the event with its schema id, or 1, which the versions before format 2
   *     read, for the first bounce of a rolling upgrade from one of them; both are read
   * @param maxCategoryBytes the longest item category kept, in UTF-8 bytes: an item whose category
   *     is longer is kept with no category, counted and logged ({@link CategoryBound})
   * @param outputMaxAheadOfClock how far ahead of the wall clock an interaction record may be
   *     processed, and so its outputs stamped ({@link BoundedTimestampExtractor}): a later one is
   *     processed at the clock plus this; {@code Long.MAX_VALUE} ms = no bound
   * @param redisTtl the expiry of the Redis hashes after their entity's latest event ({@code
   *     redis.ttl.seconds}): the example of an event that comes later than this after its user's or
   *     item's latest has the features the ranker read, those of no hash ({@link HashExpiry})
   */
  public record Settings(
      String application,
      EventValidator validator,
      Duration redisFlushInterval,
      int stateObjects,
      Duration catchUpFlushInterval,
      boolean autoRegisterSchemas,
      int maxDeadLetterBytes,
      int repartitionFormat,
      int maxCategoryBytes,
      Duration outputMaxAheadOfClock,
      Duration redisTtl) {
    public static final int DEFAULT_STATE_OBJECTS = 10_000;

    /** The hashes' expiry unless configured otherwise: 30 days. */
    public static final Duration DEFAULT_REDIS_TTL = HashExpiry.DEFAULT_TTL;

    /** The producer's default {@code max.request.size}. */
    public static final int DEFAULT_MAX_DEAD_LETTER_BYTES = 1024 * 1024;

    /** The repartition format written unless configured otherwise. */
    public static final int DEFAULT_REPARTITION_FORMAT = HalfExample.FORMAT_2;

    /**
     * The longest item category kept unless configured otherwise, in UTF-8 bytes: far above a
     * category's name, and a user's state holds every category they have seen.
     */
    public static final int DEFAULT_MAX_CATEGORY_BYTES = 256;

    /**
     * The most {@code items.category.max.bytes} may be: a user who has seen 256 categories that
     * long has a state of a MiB, the producer's default {@code max.request.size}.
     */
    public static final int MAX_CATEGORY_BYTES = 4096;

    /**
     * Outputs are stamped no later than a minute past the wall clock unless configured otherwise: a
     * broker takes records up to an hour ahead of its own by default, which leaves the rest of that
     * hour for the two clocks to differ; and a producer's clock a few milliseconds or seconds ahead
     * of the app's (hosts' clocks differ that much) is no reason to restamp its records and count
     * them as such.
     */
    public static final Duration DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK = Duration.ofMinutes(1);

    public Settings {
      if (maxDeadLetterBytes < 2 * ValidateProcessor.DEAD_LETTER_OVERHEAD_BYTES) {
        throw new IllegalArgumentException(
            "max.request.size must be at least "
                + 2 * ValidateProcessor.DEAD_LETTER_OVERHEAD_BYTES
                + " bytes for the dead letters, got "
                + maxDeadLetterBytes);
      }
      checkRepartitionFormat(repartitionFormat);
      checkMaxCategoryBytes(maxCategoryBytes);
      if (outputMaxAheadOfClock.isNegative()) {
        throw new IllegalArgumentException(
            "output.max.ahead.of.clock.ms must be >= 0, got " + outputMaxAheadOfClock.toMillis());
      }
      if (redisTtl.toMillis() < 1) {
        throw new IllegalArgumentException(
            "redis.ttl.seconds must be positive, got " + redisTtl.toSeconds());
      }
    }

    /**
     * Refuses an {@code items.category.max.bytes} outside 1..{@link #MAX_CATEGORY_BYTES}, naming
     * the key.
     *
     * @return {@code bytes}
     */
    public static int checkMaxCategoryBytes(int bytes) {
      if (bytes < 1 || bytes > MAX_CATEGORY_BYTES) {
        throw new IllegalArgumentException(
            "items.category.max.bytes must be within 1.." + MAX_CATEGORY_BYTES + ", got " + bytes);
      }
      return bytes;
    }

    /**
     * Refuses a {@code repartition.format} other than 1 and 2, naming the key.
     *
     * @return {@code format}
     */
    public static int checkRepartitionFormat(int format) {
      if (format != HalfExample.FORMAT_1 && format != HalfExample.FORMAT_2) {
        throw new IllegalArgumentException(
            "repartition.format must be 2 (the default) or 1 (only for the first bounce of a"
                + " rolling upgrade from a version that writes format 1), got "
                + format);
      }
      return format;
    }

    public Settings(
        String application,
        EventValidator validator,
        Duration redisFlushInterval,
        int stateObjects,
        Duration catchUpFlushInterval) {
      this(
          application,
          validator,
          redisFlushInterval,
          stateObjects,
          catchUpFlushInterval,
          true,
          DEFAULT_MAX_DEAD_LETTER_BYTES,
          DEFAULT_REPARTITION_FORMAT,
          DEFAULT_MAX_CATEGORY_BYTES,
          DEFAULT_OUTPUT_MAX_AHEAD_OF_CLOCK,
          DEFAULT_REDIS_TTL);
    }

    public Settings(
        String application,
        EventValidator validator,
        Duration redisFlushInterval,
        int stateObjects) {
      this(application, validator, redisFlushInterval, stateObjects, Duration.ZERO);
    }

    public Settings(String application, EventValidator validator, Duration redisFlushInterval) {
      this(application, validator, redisFlushInterval, DEFAULT_STATE_OBJECTS);
    }
  }

  /**
   * The topology over an interactions topic of one partition, as TopologyTestDriver reads it: every
   * record of partition 0.
   */
  public static Topology build(
      TopicNames topics,
      Settings settings,
      FeatureWriter writer,
      SchemaRegistryClient registry,
      FeatureMetrics metrics) {
    return build(topics, settings, InteractionsPartitioning.fixed(1), writer, registry, metrics);
  }

  /**
   * @param partitioning the partitions interactions records must be on, by their key ({@link
   *     InteractionsPartitioning}); the others are dead-lettered
   */
  public static Topology build(
      TopicNames topics,
      Settings settings,
      InteractionsPartitioning partitioning,
      FeatureWriter writer,
      SchemaRegistryClient registry,
      FeatureMetrics metrics) {
    StreamsBuilder builder = new StreamsBuilder();
    HashExpiry expiry = new HashExpiry(settings.redisTtl());
    // live objects written back once per commit (WriteBackStore), so no record cache behind them
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(STREAM_TIME_STORE),
                    Serdes.String(),
                    Serdes.Long())
                .withCachingDisabled(),
            1));
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(USER_STORE),
                    Serdes.Long(),
                    StateSerdes.userState())
                .withCachingDisabled(),
            settings.stateObjects()));
    // a store of its own, not beside the user's state: the snapshots change once per request, the
    // state at every event, and would be written to the changelog with it at every commit. A
    // quarter as many kept deserialized: each holds up to 4 copies of a user's state, and only a
    // request's own events, over seconds, read them again
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(REQUESTS_STORE),
                    Serdes.Long(),
                    StateSerdes.requestSnapshots())
                .withCachingDisabled(),
            settings.stateObjects() / 4));
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(ITEM_STORE),
                    Serdes.Long(),
                    StateSerdes.itemState())
                .withCachingDisabled(),
            settings.stateObjects()));
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.inMemoryKeyValueStore(USER_PENDING_STORE),
                    Serdes.Long(),
                    DirtyEntities.rangeSerde())
                .withCachingDisabled(),
            0));
    builder.addStateStore(
        WriteBackStore.builder(
            Stores.keyValueStoreBuilder(
                    Stores.inMemoryKeyValueStore(ITEM_PENDING_STORE),
                    Serdes.Long(),
                    DirtyEntities.rangeSerde())
                .withCachingDisabled(),
            0));
    // global stores fed by a processor, not the DSL's global tables: a global table is restored
    // (at every start, for the in-memory items) by copying the topic's bytes into the store as they
    // are, so an unreadable record that the deserialization handler skipped while running replaced
    // the item's metadata at the next start, and every read of it then failed its stream thread.
    // A global store's processor also restores it, and the handler skips such a record again.
    // A record without a timestamp, which Kafka Streams refuses in a global store whatever the
    // timestamp extractor, is restamped by the global consumer first (TableTimestampInterceptor).
    // The stores keep each record's bytes as the topic holds them, under the producer's schema
    // id: nothing is serialized again, so nothing is registered (TableRecord).
    // read twice per event: a hash map, and no record cache in front of memory.
    // An item's metadata goes to its Redis hash as the catalog changes, not only with its next
    // event: a new item is served with its category, age and length from the start, as its first
    // training examples have them (idempotent sets; rewritten at each start). Its category is
    // bounded before anything reads it (CategoryBound). These writes, and the profiles' below,
    // leave out the entity's state, so they are partial: merged with a partial state write of the
    // same key (AsyncFeatureWriter), they keep it partial, and it is refused over a lost hash
    CategoryBound bound = new CategoryBound(settings.maxCategoryBytes(), metrics);
    globalTable(
        builder,
        HashStore.supplier(ITEMS_STORE),
        false,
        topics.items(),
        new AvroDeserializer<>(registry, ItemMetadata.class),
        bound::bounded,
        bound::admit,
        (id, meta) ->
            writer.write(
                List.of(
                    new FeatureWriter.FeatureWrite(
                        FeatureWriter.itemKey(id),
                        ItemState.metadataHash(meta),
                        FeatureWriter.NO_EVENT,
                        true))));
    globalTable(
        builder,
        Stores.persistentTimestampedKeyValueStore(USERS_STORE),
        true,
        topics.users(),
        new AvroDeserializer<>(registry, UserProfile.class),
        UnaryOperator.identity(),
        (id, profile) -> profile,
        // likewise a user's profile: a new user's first request is served with their account's
        // age, as their first training example has it, not the -1 of an unknown profile
        (id, profile) ->
            writer.write(
                List.of(
                    new FeatureWriter.FeatureWrite(
                        FeatureWriter.userKey(id),
                        UserState.profileHash(profile),
                        FeatureWriter.NO_EVENT,
                        true))));

    KStream<byte[], Checked> checked =
        builder.stream(
                topics.interactions(),
                Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                    .withTimestampExtractor(
                        new BoundedTimestampExtractor(
                            System::currentTimeMillis, settings.outputMaxAheadOfClock())))
            .processValues(
                () ->
                    new ValidateProcessor(
                        new AvroDeserializer<>(registry, InteractionEvent.class),
                        settings.validator(),
                        partitioning,
                        metrics,
                        settings.application(),
                        settings.maxDeadLetterBytes()),
                Named.as("validate"),
                STREAM_TIME_STORE);

    Map<String, KStream<byte[], Checked>> branches =
        checked
            .split(Named.as("checked-"))
            .branch((k, v) -> v.valid(), Branched.as("valid"))
            .defaultBranch(Branched.as("invalid"));

    branches
        .get("checked-invalid")
        .map((k, v) -> KeyValue.pair(v.deadLetterKey(), v.deadLetter()), Named.as("dead-letter"))
        .to(
            topics.deadLetters(),
            Produced.with(
                Serdes.ByteArray(),
                AvroSerdes.valueSerde(registry, DeadLetter.class, settings.autoRegisterSchemas())));

    branches
        .get("checked-valid")
        .process(
            () ->
                new UserFeatureProcessor(
                    writer,
                    metrics,
                    settings.redisFlushInterval(),
                    new FlushSchedule(settings.catchUpFlushInterval()),
                    expiry),
            Named.as("user-features"),
            USER_STORE,
            REQUESTS_STORE,
            USER_PENDING_STORE)
        .repartition(
            Repartitioned.with(
                    Serdes.Long(),
                    HalfExample.serde(
                        new EventCodec(
                            registry, topics.interactions(), settings.autoRegisterSchemas()),
                        settings.repartitionFormat()))
                .withName(BY_ITEM))
        .process(
            () ->
                new ItemFeatureProcessor(
                    writer,
                    metrics,
                    settings.redisFlushInterval(),
                    new FlushSchedule(settings.catchUpFlushInterval()),
                    expiry),
            Named.as("item-features"),
            ITEM_STORE,
            ITEM_PENDING_STORE)
        .to(
            topics.trainingExamples(),
            Produced.with(
                Serdes.Long(),
                AvroSerdes.valueSerde(
                    registry, TrainingExample.class, settings.autoRegisterSchemas())));

    return builder.build();
  }

  private FeatureTopology() {}

  /**
   * A global table kept by a {@link TableWriter}: the latest record per key of {@code topic}, read
   * through {@code values} and {@code admit} both while running and while restoring the store at a
   * start; its readers see each stored record through {@code values} and {@code asRead}, which
   * leaves out what {@code admit} does.
   */
  private static <V> void globalTable(
      StreamsBuilder builder,
      KeyValueBytesStoreSupplier store,
      boolean cached,
      String topic,
      Deserializer<V> values,
      UnaryOperator<V> asRead,
      BiFunction<Long, V, V> admit,
      BiConsumer<Long, V> onValue) {
    var stored =
        Stores.timestampedKeyValueStoreBuilder(
                store, Serdes.Long(), TableRecord.serde(values, asRead))
            .withLoggingDisabled();
    builder.addGlobalStore(
        cached ? stored.withCachingEnabled() : stored,
        topic,
        Consumed.with(Serdes.Long(), TableRecord.serde(values, UnaryOperator.identity())),
        () -> new TableWriter<>(store.name(), admit, onValue));
  }
}
