package io.feedrank.avro.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryException;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.RankingLog;
import io.feedrank.events.UserProfile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.SerializationException;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdeTest {
  private static final String TOPIC = Topics.INTERACTIONS;

  private final FakeSchemaRegistryClient registry = new FakeSchemaRegistryClient();

  // ---------------------------------------------------------------- round trips

  @Test
  void interactionEventRoundTripsThroughSerializerAndDeserializer() {
    InteractionEvent event = Samples.interaction();
    byte[] bytes = new AvroSerializer<InteractionEvent>(registry, true).serialize(TOPIC, event);

    InteractionEvent back =
        new AvroDeserializer<>(registry, InteractionEvent.class).deserialize(TOPIC, bytes);

    assertThat(back).isEqualTo(event).isNotSameAs(event);
    assertThat(back.getEventTime()).isEqualTo(Instant.parse("2024-03-05T06:07:08.123Z"));
    assertThat(back.getDevice()).isEqualTo(Device.TABLET);
    assertThat(back.getRequestId()).isEqualTo("req-7");
    assertThat(back.getPosition()).isEqualTo(3);
  }

  static Stream<Arguments> everyTopicFullAndMinimal() {
    List<Arguments> args = new ArrayList<>();
    for (Topics.TopicSpec t : Topics.ALL) {
      args.add(Arguments.of(t.name(), t.valueType(), "full"));
      args.add(Arguments.of(t.name(), t.valueType(), "minimal"));
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("everyTopicFullAndMinimal")
  void everyTopicValueTypeRoundTrips(
      String topic, Class<? extends SpecificRecord> type, String variant) {
    SpecificRecord record = ("full".equals(variant) ? Samples.FULL : Samples.MINIMAL).get(type);
    assertThat(record).as("a %s sample of %s", variant, type.getSimpleName()).isNotNull();

    byte[] bytes = roundTripCheck(topic, type, record);

    // header: magic 0 then the id the registry assigned, big-endian
    int id = registry.idsBySubject.get(topic + "-value").get(0);
    assertThat(Arrays.copyOf(bytes, 5))
        .containsExactly(0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id);
    assertThat(registry.byId.get(id)).isEqualTo(AvroSerdes.schemaOf(type));

    // the body alone is plain Avro binary of the class schema: decode it without our code
    GenericRecord generic = plainDecode(AvroSerdes.schemaOf(type), bytes);
    assertThat(generic.toString()).isEqualTo(record.toString());
  }

  @Test
  void nullableFieldsSetAndUnsetAreDistinguishedAfterRoundTrip() {
    InteractionEvent unset = (InteractionEvent) Samples.MINIMAL.get(InteractionEvent.class);
    byte[] bytes = new AvroSerializer<InteractionEvent>(registry, true).serialize(TOPIC, unset);
    InteractionEvent back =
        new AvroDeserializer<>(registry, InteractionEvent.class).deserialize(TOPIC, bytes);
    assertThat(back.getRequestId()).isNull();
    assertThat(back.getPosition()).isNull();

    GenericRecord generic = plainDecode(InteractionEvent.getClassSchema(), bytes);
    assertThat(generic.get("request_id")).isNull();
    assertThat(generic.get("position")).isNull();
    assertThat(generic.get("user_id")).isEqualTo(42L);
    assertThat(generic.get("event_time")).isEqualTo(Samples.T0);
    assertThat(generic.get("device").toString()).isEqualTo("MOBILE");
  }

  @Test
  void timestampMillisKeepsMillisecondPrecisionOnly() {
    Instant withNanos = Instant.parse("2024-03-05T06:07:08.123456789Z");
    InteractionEvent event = Samples.interaction();
    event.setEventTime(withNanos);

    byte[] bytes = new AvroSerializer<InteractionEvent>(registry, true).serialize(TOPIC, event);
    InteractionEvent back =
        new AvroDeserializer<>(registry, InteractionEvent.class).deserialize(TOPIC, bytes);

    assertThat(back.getEventTime()).isEqualTo(Instant.parse("2024-03-05T06:07:08.123Z"));
    // on the wire it is a long of epoch millis
    GenericRecord raw =
        plainDecode(InteractionEvent.getClassSchema(), bytes, new GenericData()); // no conversions
    assertThat(raw.get("event_time")).isEqualTo(withNanos.toEpochMilli());
  }

  @Test
  void headerCarriesTheRegistryIdBigEndian() {
    FakeSchemaRegistryClient wide = new FakeSchemaRegistryClient(0x01020304);
    byte[] bytes =
        new AvroSerializer<InteractionEvent>(wide, true).serialize(TOPIC, Samples.interaction());

    assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 1, 2, 3, 4);
    assertThat(WireFormat.schemaId(bytes, TOPIC)).isEqualTo(0x01020304);
    assertThat(new AvroDeserializer<>(wide, InteractionEvent.class).deserialize(TOPIC, bytes))
        .isEqualTo(Samples.interaction());
  }

  @Test
  void firstRecordGetsIdOneAndSecondClassIdTwo() {
    AvroSerializer<SpecificRecord> serializer = new AvroSerializer<>(registry, true);
    byte[] a = serializer.serialize(TOPIC, Samples.interaction());
    byte[] b = serializer.serialize(Topics.USERS, Samples.FULL.get(UserProfile.class));

    assertThat(Arrays.copyOf(a, 5)).containsExactly(0, 0, 0, 0, 1);
    assertThat(Arrays.copyOf(b, 5)).containsExactly(0, 0, 0, 0, 2);
    assertThat(registry.idsBySubject)
        .containsEntry("interactions-value", List.of(1))
        .containsEntry("users-value", List.of(2));
  }

  // ---------------------------------------------------------------- nulls and empty input

  @Test
  void nullRecordSerializesToNullWithoutTouchingTheRegistry() {
    assertThat(new AvroSerializer<InteractionEvent>(registry, true).serialize(TOPIC, null))
        .isNull();
    assertThat(registry.calls).isEmpty();
  }

  @Test
  void nullIsATombstoneAndEmptyBytesAreMalformed() {
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    assertThat(d.deserialize(TOPIC, null)).isNull();
    // an empty value is not a tombstone to Kafka's compaction; read as one, a corrupt empty
    // record on users or items deleted that entity from the features' tables
    assertThatThrownBy(() -> d.deserialize(TOPIC, new byte[0]))
        .isInstanceOf(SerializationException.class)
        .isNotInstanceOf(RegistryUnavailableException.class)
        .hasMessageContaining("shorter than");
    assertThat(registry.calls).isEmpty();
  }

  /**
   * An id the registry answers with a schema of another type (a JSON Schema or Protobuf
   * serializer's record) is the record's fault, not the registry's: it was taken for an unavailable
   * registry, which stops a features table or restarts the drift job on the same record forever.
   * The answer is kept: the next such record does not ask again.
   */
  @Test
  void aSchemaIdThatIsNotAvroIsTheRecordsFaultAndIsAskedOnce() {
    registry.schemaByIdFailure =
        new SchemaRegistryException(
            "schema id 7 is JSON, not AVRO", SchemaRegistryException.UNUSABLE_SCHEMA, -1, null);
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    byte[] bytes = {0, 0, 0, 0, 7, '{', '}'};
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> d.deserialize(TOPIC, bytes))
          .isInstanceOf(SerializationException.class)
          .isNotInstanceOf(RegistryUnavailableException.class)
          .hasMessageContaining("schema id 7 of record on topic 'interactions'")
          .hasMessageContaining("is JSON, not AVRO");
    }
    assertThat(registry.count("schemaById")).isEqualTo(1);
  }

  /**
   * A collection declaring more items than the cap is malformed before Avro allocates it: 2^26
   * doubles was 512 MB from a record of a dozen bytes.
   */
  @Test
  void aCollectionDeclaringMoreItemsThanTheCapIsMalformed() {
    int id = registry.register("ranking-logs-value", RankingLog.getClassSchema());
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(new byte[] {0, 0, 0, 0, (byte) id});
    // request_id "", timestamp 0, user_id 0, device 0, model_name, model_version, variant ""
    out.writeBytes(new byte[] {0, 0, 0, 0, 0, 0, 0});
    // then items: a block count one past the cap (zig-zag varint), and no item after it
    for (long z = (AvroDeserializer.MAX_COLLECTION_ITEMS + 1) << 1; ; z >>>= 7) {
      if ((z & ~0x7FL) == 0) {
        out.write((int) z);
        break;
      }
      out.write((int) ((z & 0x7F) | 0x80));
    }
    AvroDeserializer<RankingLog> d = new AvroDeserializer<>(registry, RankingLog.class);
    assertThat(System.getProperty("org.apache.avro.limits.collectionItems.maxLength"))
        .isEqualTo(Long.toString(AvroDeserializer.MAX_COLLECTION_ITEMS));
    assertThatThrownBy(() -> d.deserialize("ranking-logs", out.toByteArray()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("malformed")
        .hasMessageContaining("Collection length 1048577 exceeds the maximum allowed");
  }

  // ---------------------------------------------------------------- malformed input

  @Test
  void trailingBytesAfterAValidBodyAreRejected() {
    byte[] valid =
        new AvroSerializer<InteractionEvent>(registry, true)
            .serialize(TOPIC, Samples.interaction());
    byte[] withGarbage = Arrays.copyOf(valid, valid.length + 2);
    withGarbage[valid.length] = 0x01;
    withGarbage[valid.length + 1] = 0x02;

    assertThatThrownBy(
            () ->
                new AvroDeserializer<>(registry, InteractionEvent.class)
                    .deserialize(TOPIC, withGarbage))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("trailing bytes")
        .hasMessageContaining("'interactions'")
        .hasMessageContaining("schema id 1");
  }

  @Test
  void truncatedBodyIsMalformed() {
    byte[] valid =
        new AvroSerializer<InteractionEvent>(registry, true)
            .serialize(TOPIC, Samples.interaction());
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);

    // cut inside the interaction_id string, and just before the last byte
    for (int length : new int[] {WireFormat.HEADER_LENGTH, 8, valid.length - 1}) {
      byte[] truncated = Arrays.copyOf(valid, length);
      assertThatThrownBy(() -> d.deserialize(TOPIC, truncated))
          .as("truncated to %d of %d bytes", length, valid.length)
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("malformed")
          .hasMessageContaining("'interactions'")
          .hasMessageContaining("InteractionEvent")
          // says what is wrong, where Avro's end of input has no message ("…): null")
          .hasMessageEndingWith("the body ends before the record does (truncated)");
    }
  }

  @Test
  void aConsumersDeserializationFailureIsExplainedByTheDeserializersMessage() {
    SerializationException cause = new SerializationException("unknown magic byte 0x7b");
    RecordDeserializationException e =
        new RecordDeserializationException(
            RecordDeserializationException.DeserializationExceptionOrigin.VALUE,
            new org.apache.kafka.common.TopicPartition(TOPIC, 0),
            5,
            0,
            org.apache.kafka.common.record.TimestampType.CREATE_TIME,
            null,
            null,
            new org.apache.kafka.common.header.internals.RecordHeaders(),
            "Error deserializing VALUE for partition interactions-0 at offset 5",
            cause);
    assertThat(AvroDeserializer.reason(e)).isEqualTo("unknown magic byte 0x7b");
  }

  @Test
  void outOfRangeEnumOrUnionIndexIsMalformed() {
    // a valid InteractionEvent up to device, then a device ordinal of 9 (only 4 symbols)
    byte[] valid =
        new AvroSerializer<InteractionEvent>(registry, true)
            .serialize(TOPIC, Samples.interaction());
    byte[] minimal =
        new AvroSerializer<InteractionEvent>(registry, true)
            .serialize(TOPIC, (InteractionEvent) Samples.MINIMAL.get(InteractionEvent.class));
    // minimal ends with: device (1 byte), request_id union index 0, position union index 0
    byte[] badUnion = minimal.clone();
    badUnion[badUnion.length - 1] = 0x0a; // union index 5
    byte[] badEnum = minimal.clone();
    badEnum[badEnum.length - 3] = 0x12; // enum ordinal 9

    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    assertThat(d.deserialize(TOPIC, valid)).isEqualTo(Samples.interaction());
    assertThat(d.deserialize(TOPIC, minimal))
        .isEqualTo(Samples.MINIMAL.get(InteractionEvent.class));
    for (byte[] bad : List.of(badUnion, badEnum)) {
      assertThatThrownBy(() -> d.deserialize(TOPIC, bad))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("malformed");
    }
  }

  /**
   * Avro 1.12 reports a negative string/bytes/array length with a plain AvroRuntimeException and a
   * length above the configured limit with its own runtime exceptions; the deserializer must turn
   * every one of them into the same SerializationException("malformed Avro body ...") with the
   * topic and schema id. (A 10-byte record declaring a 2 GB string must not allocate 2 GB either:
   * the deserializer caps Avro's decode lengths.)
   */
  @Test
  void corruptLengthPrefixIsMalformedNotARawAvroException() {
    int id = registry.register("interactions-value", InteractionEvent.getClassSchema());
    byte[] negativeLength = {0, 0, 0, 0, (byte) id, 0x01}; // string length zig-zag -1
    byte[] hugeLength = { // string length zig-zag 2^31-1
      0, 0, 0, 0, (byte) id, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f
    };

    // 2,000,000,000: under the JVM's array limit, so only the decode-length cap stops the
    // allocation
    byte[] twoGigabytes = {
      0, 0, 0, 0, (byte) id, (byte) 0x80, (byte) 0xd0, (byte) 0xac, (byte) 0xf3, (byte) 0x0e
    };

    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    SoftAssertions.assertSoftly(
        softly -> {
          for (byte[] bad : List.of(negativeLength, hugeLength, twoGigabytes)) {
            softly
                .assertThatThrownBy(() -> d.deserialize(TOPIC, bad))
                .as("body %s", Arrays.toString(bad))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("malformed");
          }
        });
  }

  @Test
  void unknownSchemaIdIsASerializationExceptionNamingTheId() {
    byte[] bytes = {0, 0, 0, 0, 99, 2, 'x'};
    assertThatThrownBy(
            () ->
                new AvroDeserializer<>(registry, InteractionEvent.class).deserialize(TOPIC, bytes))
        .isInstanceOfSatisfying(
            UnknownSchemaIdException.class, e -> assertThat(e.schemaId()).isEqualTo(99))
        .hasMessageContaining("unknown schema id 99")
        .hasMessageContaining("'interactions'")
        .hasCauseInstanceOf(SchemaRegistryException.class)
        // the record names an id the registry does not have: the record is at fault
        .isNotInstanceOf(RegistryUnavailableException.class);
  }

  @Test
  void registryFailureWhileFetchingWriterSchemaSaysTheRegistryNotTheRecordIsAtFault() {
    // unreachable (status 0), an error answer after retries, a refused credential
    for (int status : new int[] {0, 503, 429, 401}) {
      registry.schemaByIdFailure = new SchemaRegistryException("boom", status, -1, null);
      byte[] bytes = {0, 0, 0, 0, 1, 2, 'x'};
      assertThatThrownBy(
              () ->
                  new AvroDeserializer<>(registry, InteractionEvent.class)
                      .deserialize(TOPIC, bytes))
          .as("status %d", status)
          .isInstanceOf(RegistryUnavailableException.class)
          .hasMessageContaining("could not fetch schema id 1")
          .hasMessageContaining("boom")
          .hasMessageNotContaining("unknown schema id");
    }
  }

  @Test
  void badHeaderIsRejectedBeforeTheRegistryIsAsked() {
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    assertThatThrownBy(() -> d.deserialize(TOPIC, new byte[] {1, 0, 0, 0, 1, 0}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("magic byte 0x01");
    assertThatThrownBy(() -> d.deserialize(TOPIC, new byte[] {0, 0, 1}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("shorter than");
    assertThat(registry.calls).isEmpty();
  }

  // ---------------------------------------------------------------- schema resolution

  @Test
  void olderWriterSchemaIsResolvedWithReaderDefaults() throws IOException {
    // the first version of InteractionEvent: no device, request_id or position
    Schema v1 =
        SchemaBuilder.record("InteractionEvent")
            .namespace("io.feedrank.events")
            .fields()
            .requiredString("interaction_id")
            .requiredLong("user_id")
            .requiredLong("item_id")
            .name("event_time")
            .type(
                org.apache.avro.LogicalTypes.timestampMillis()
                    .addToSchema(Schema.create(Schema.Type.LONG)))
            .noDefault()
            .requiredBoolean("click")
            .requiredBoolean("like")
            .requiredBoolean("share")
            .requiredFloat("dwell_seconds")
            .endRecord();
    registry.put(7, "interactions-value", v1);
    GenericRecord old = new GenericData.Record(v1);
    old.put("interaction_id", "old-1");
    old.put("user_id", 5L);
    old.put("item_id", 6L);
    old.put("event_time", Samples.T1.toEpochMilli());
    old.put("click", true);
    old.put("like", true);
    old.put("share", false);
    old.put("dwell_seconds", 1.5f);

    InteractionEvent read =
        new AvroDeserializer<>(registry, InteractionEvent.class)
            .deserialize(TOPIC, wire(7, v1, old));

    assertThat(read.getInteractionId()).isEqualTo("old-1");
    assertThat(read.getUserId()).isEqualTo(5L);
    assertThat(read.getEventTime()).isEqualTo(Samples.T1);
    assertThat(read.getDwellSeconds()).isEqualTo(1.5f);
    assertThat(read.getDevice()).isEqualTo(Device.UNKNOWN);
    assertThat(read.getRequestId()).isNull();
    assertThat(read.getPosition()).isNull();
  }

  @Test
  void rankingLogsWrittenBeforeTheSyntheticFlagReadAsNotSynthetic() throws IOException {
    // the RankingLog schema before `synthetic` was added: the fields before it, as they are (those
    // added after it came later)
    Schema current = RankingLog.getClassSchema();
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : current.getFields()) {
      if (f.name().equals("synthetic")) {
        break;
      }
      fields.add(new Schema.Field(f, f.schema()));
    }
    assertThat(fields).hasSize(current.getField("synthetic").pos());
    Schema before =
        Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false);
    before.setFields(fields);
    registry.put(9, "ranking-logs-value", before);
    RankingLog full = (RankingLog) Samples.FULL.get(RankingLog.class);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(9).array());
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<RankingLog>(before).write(full, enc);
    enc.flush();

    RankingLog read =
        new AvroDeserializer<>(registry, RankingLog.class)
            .deserialize(Topics.RANKING_LOGS, out.toByteArray());

    assertThat(full.getSynthetic()).isTrue();
    assertThat(read.getSynthetic()).isFalse();
    assertThat(read.getRequestId()).isEqualTo(full.getRequestId());
    assertThat(read.getItems()).isEqualTo(full.getItems());
    assertThat(read.getSampledFeatures()).isEqualTo(full.getSampledFeatures());
  }

  @Test
  void newerWriterWithExtraFieldAndUnknownEnumSymbolReadsIntoTheCompiledClass() throws IOException {
    String newer =
        InteractionEvent.getClassSchema()
            .toString()
            .replace("\"TABLET\",", "\"TABLET\",\"TV\",")
            .replace(
                "\"fields\":[",
                "\"fields\":[{\"name\":\"experiment\",\"type\":\"string\",\"default\":\"\"},");
    Schema v3 = new Schema.Parser().parse(newer);
    registry.put(8, "interactions-value", v3);
    GenericData.Record rec = new GenericData.Record(v3);
    rec.put("experiment", "exp-9");
    rec.put("interaction_id", "new-1");
    rec.put("user_id", 5L);
    rec.put("item_id", 6L);
    rec.put("event_time", Samples.T0.toEpochMilli());
    rec.put("click", false);
    rec.put("like", false);
    rec.put("share", true);
    rec.put("dwell_seconds", 2f);
    rec.put("device", new GenericData.EnumSymbol(v3.getField("device").schema(), "TV"));
    rec.put("request_id", "r");
    rec.put("position", 4);

    InteractionEvent read =
        new AvroDeserializer<>(registry, InteractionEvent.class)
            .deserialize(TOPIC, wire(8, v3, rec));

    assertThat(read.getInteractionId()).isEqualTo("new-1");
    assertThat(read.getShare()).isTrue();
    assertThat(read.getDevice()).isEqualTo(Device.UNKNOWN);
    assertThat(read.getRequestId()).isEqualTo("r");
    assertThat(read.getPosition()).isEqualTo(4);
  }

  @Test
  void writerSchemaIsFetchedOncePerId() {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>(registry, true);
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>(registry, InteractionEvent.class);
    byte[] bytes = s.serialize(TOPIC, Samples.interaction());

    d.deserialize(TOPIC, bytes);
    d.deserialize(TOPIC, bytes);
    d.deserialize(TOPIC, bytes);

    assertThat(registry.count("schemaById")).isEqualTo(1);
  }

  // ---------------------------------------------------------------- subjects and registration

  @Test
  void serializerRegistersOncePerSubjectAndClass() {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>(registry, true);
    s.serialize(TOPIC, Samples.interaction());
    s.serialize(TOPIC, Samples.interaction());
    s.serialize("other", Samples.interaction());

    assertThat(registry.calls)
        .containsExactly("register interactions-value", "register other-value");
  }

  @Test
  void withoutAutoRegisterAnUnregisteredSchemaFails() {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>(registry, true);
    s.configure(Map.of(AvroSerializer.AUTO_REGISTER, "false"), false);

    assertThatThrownBy(() -> s.serialize(TOPIC, Samples.interaction()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("is not registered under subject 'interactions-value'")
        .hasMessageContaining("io.feedrank.events.InteractionEvent");
    assertThat(registry.calls).containsExactly("lookup interactions-value");
    assertThat(registry.byId).isEmpty();
  }

  @Test
  void autoRegisterIsTrueOrFalseAndAnythingElseIsRefusedByName() {
    assertThat(AvroSerializer.autoRegister(Map.of(), true)).isTrue();
    assertThat(AvroSerializer.autoRegister(Map.of(), false)).isFalse();
    assertThat(AvroSerializer.autoRegister(Map.of(AvroSerializer.AUTO_REGISTER, "FALSE"), true))
        .isFalse();
    assertThat(AvroSerializer.autoRegister(Map.of(AvroSerializer.AUTO_REGISTER, " true"), false))
        .isTrue();
    // a typo used to read as false: registration silently off
    assertThatThrownBy(
            () -> AvroSerializer.autoRegister(Map.of(AvroSerializer.AUTO_REGISTER, "ture"), true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("auto.register.schemas must be true or false, got 'ture'");
  }

  @Test
  void withoutAutoRegisterARegisteredSchemaIsLookedUp() {
    registry.put(5, "interactions-value", InteractionEvent.getClassSchema());
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>(registry, false);

    byte[] bytes = s.serialize(TOPIC, Samples.interaction());

    assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 0, 0, 0, 5);
    assertThat(registry.calls).containsExactly("lookup interactions-value");
  }

  @Test
  void keySerializerUsesTheKeySubject() {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>(registry, true);
    s.configure(Map.of(), true);

    s.serialize(TOPIC, Samples.interaction());

    assertThat(registry.calls).containsExactly("register interactions-key");
    assertThat(registry.idsBySubject).containsOnlyKeys("interactions-key");
  }

  @Test
  void serdeConfiguredAsKeyUsesTheKeySubjectAndRoundTrips() {
    AvroSerde<InteractionEvent> serde = AvroSerdes.valueSerde(registry, InteractionEvent.class);
    serde.configure(Map.of(), true);

    byte[] bytes = serde.serializer().serialize(TOPIC, Samples.interaction());

    assertThat(registry.idsBySubject).containsOnlyKeys("interactions-key");
    assertThat(serde.deserializer().deserialize(TOPIC, bytes)).isEqualTo(Samples.interaction());
    serde.close(); // a shared client is not the serde's to close
  }

  @Test
  void registryFailureWhileRegisteringIsASerializationException() {
    registry.registerFailure = new SchemaRegistryException("HTTP 409 incompatible", 409, 409, null);
    assertThatThrownBy(
            () ->
                new AvroSerializer<InteractionEvent>(registry, true)
                    .serialize(TOPIC, Samples.interaction()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("under subject 'interactions-value'")
        .hasMessageContaining("HTTP 409 incompatible")
        .hasCauseInstanceOf(SchemaRegistryException.class);
  }

  @Test
  void recordMissingARequiredFieldIsASerializationException() {
    InteractionEvent broken = new InteractionEvent(); // interaction_id null, event_time null
    assertThatThrownBy(
            () -> new AvroSerializer<InteractionEvent>(registry, true).serialize(TOPIC, broken))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("could not serialize io.feedrank.events.InteractionEvent")
        .hasMessageContaining("'interactions'");
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void deserializerWithoutValueTypeNamesTheMissingKey() {
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>();
    Map<String, Object> configs = new HashMap<>();
    configs.put(RegistryConfig.URL, "http://127.0.0.1:1");

    assertThatThrownBy(() -> d.configure(configs, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AvroDeserializer.VALUE_TYPE);
    assertThatThrownBy(() -> new AvroDeserializer<InteractionEvent>().configure(configs, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AvroDeserializer.KEY_TYPE);
    d.close();
  }

  @Test
  void deserializerWithUnknownTypeNamesTheKeyAndTheClass() {
    Map<String, Object> configs = new HashMap<>();
    configs.put(RegistryConfig.URL, "http://127.0.0.1:1");
    configs.put(AvroDeserializer.VALUE_TYPE, "io.feedrank.events.NoSuchEvent");

    assertThatThrownBy(() -> new AvroDeserializer<InteractionEvent>().configure(configs, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AvroDeserializer.VALUE_TYPE)
        .hasMessageContaining("io.feedrank.events.NoSuchEvent");
  }

  @Test
  void deserializerWithoutRegistryUrlNamesTheUrlKey() {
    assertThatThrownBy(
            () ->
                new AvroDeserializer<InteractionEvent>()
                    .configure(Map.of(AvroDeserializer.VALUE_TYPE, InteractionEvent.class), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RegistryConfig.URL);
  }

  @Test
  void unconfiguredSerdesRefuseToWork() {
    byte[] bytes = {0, 0, 0, 0, 1, 0};
    assertThatThrownBy(() -> new AvroDeserializer<InteractionEvent>().deserialize(TOPIC, bytes))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("configure");
    assertThatThrownBy(
            () -> new AvroSerializer<InteractionEvent>().serialize(TOPIC, Samples.interaction()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("configure");
  }

  // ---------------------------------------------------------------- AvroSerdes

  @Test
  void registerAllSetsFullTransitiveAndRegistersEveryValueSubject() {
    Map<String, Integer> ids = AvroSerdes.registerAll(registry);

    List<String> expectedCalls = new ArrayList<>();
    for (Topics.TopicSpec t : Topics.ALL) {
      expectedCalls.add("setCompatibility " + t.name() + "-value FULL_TRANSITIVE");
      expectedCalls.add("register " + t.name() + "-value");
    }
    assertThat(registry.calls).containsExactlyElementsOf(expectedCalls);
    assertThat(ids.keySet())
        .containsExactlyElementsOf(Topics.ALL.stream().map(t -> t.name() + "-value").toList());
    for (Topics.TopicSpec t : Topics.ALL) {
      String subject = t.name() + "-value";
      assertThat(registry.compatibilityBySubject).containsEntry(subject, "FULL_TRANSITIVE");
      assertThat(registry.byId.get(ids.get(subject)))
          .as(subject)
          .isEqualTo(AvroSerdes.schemaOf(t.valueType()));
    }
    assertThat(ids.values()).doesNotHaveDuplicates();

    // idempotent: the same ids again
    assertThat(AvroSerdes.registerAll(registry)).isEqualTo(ids);
  }

  @Test
  void schemaOfReturnsTheCompiledSchemaAndRejectsNonRecords() {
    assertThat(AvroSerdes.schemaOf(InteractionEvent.class))
        .isSameAs(InteractionEvent.getClassSchema());
    assertThatThrownBy(() -> AvroSerdes.schemaOf(NotARecord.class))
        .isInstanceOf(RuntimeException.class);
  }

  /** A SpecificRecord that is not a generated class. */
  abstract static class NotARecord implements SpecificRecord {}

  // ---------------------------------------------------------------- helpers

  private byte[] roundTripCheck(
      String topic, Class<? extends SpecificRecord> type, SpecificRecord record) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    AvroDeserializer<SpecificRecord> d = new AvroDeserializer(registry, type);
    byte[] bytes = new AvroSerializer<SpecificRecord>(registry, true).serialize(topic, record);
    SpecificRecord back = d.deserialize(topic, bytes);
    assertThat(back).isInstanceOf(type).isEqualTo(record).isNotSameAs(record);
    return bytes;
  }

  private static GenericRecord plainDecode(Schema schema, byte[] wire) {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    return plainDecode(schema, wire, model);
  }

  private static GenericRecord plainDecode(Schema schema, byte[] wire, GenericData model) {
    try {
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(wire, 5, wire.length - 5, null);
      GenericRecord r =
          new GenericDatumReader<GenericRecord>(schema, schema, model).read(null, decoder);
      assertThat(decoder.isEnd()).as("body fully consumed").isTrue();
      return r;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] wire(int id, Schema writer, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(writer).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }
}
