package io.feedrank.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.InMemorySchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.TrainingExample;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HalfExampleTest {
  static final String TOPIC = "app-by-item-repartition";
  static final String INTERACTIONS = "interactions-x";
  static final String SUBJECT = INTERACTIONS + "-value";

  final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  Serde<HalfExample> serde(int format) {
    return HalfExample.serde(new EventCodec(registry, INTERACTIONS, true), format);
  }

  static InteractionEvent event(String requestId, Integer position) {
    return InteractionEvent.newBuilder()
        .setInteractionId("ünïcode-id-1")
        .setUserId(42)
        .setItemId(7_000_000_001L)
        .setEventTime(Instant.parse("2026-11-30T23:59:59.999Z"))
        .setClick(true)
        .setLike(false)
        .setShare(true)
        .setDwellSeconds(12.5f)
        .setDevice(Device.TABLET)
        .setRequestId(requestId)
        .setPosition(position)
        .build();
  }

  static void assertSame(HalfExample got, HalfExample expected) {
    assertThat(got.event()).isEqualTo(expected.event());
    assertThat(got.category()).isEqualTo(expected.category());
    assertThat(bits(got.user())).isEqualTo(bits(expected.user()));
    assertThat(bits(got.cross())).isEqualTo(bits(expected.cross()));
  }

  static long[] bits(double[] v) {
    return Arrays.stream(v).mapToLong(Double::doubleToRawLongBits).toArray();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void roundTripsBitForBit(int format) {
    Serde<HalfExample> serde = serde(format);
    HalfExample[] cases = {
      new HalfExample(
          event("req-9", 3),
          "música/日本",
          new double[] {0.1, -0.0, Double.MIN_VALUE, Double.NaN, 1e300, 7},
          new double[] {Double.POSITIVE_INFINITY, 2.5}),
      new HalfExample(event(null, null), "", new double[0], new double[0]),
    };
    for (HalfExample h : cases) {
      byte[] bytes = serde.serializer().serialize(TOPIC, h);
      assertThat(bytes[0]).isEqualTo((byte) (format == 2 ? 3 : 1));
      assertSame(serde.deserializer().deserialize(TOPIC, bytes), h);
      // an instance configured to write the other format reads it as well
      assertSame(serde(3 - format).deserializer().deserialize(TOPIC, bytes), h);
    }
    assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
    assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
  }

  /** The layout of the README, built here byte by byte: a tag, the doubles, the category. */
  static byte[] halfExampleBytes(
      int tag, double[] user, double[] cross, String category, byte[] event) {
    byte[] c = category.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(
            1 + 4 + 8 * user.length + 4 + 8 * cross.length + 4 + c.length + event.length);
    b.put((byte) tag).putInt(user.length);
    for (double v : user) {
      b.putDouble(v);
    }
    b.putInt(cross.length);
    for (double v : cross) {
      b.putDouble(v);
    }
    return b.putInt(c.length).put(c).put(event).array();
  }

  /** The Confluent wire format of {@code record}: magic byte 0, the id, Avro binary. */
  static byte[] wireFormat(int schemaId, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  /**
   * InteractionEvent as a later version of the app may have it: a field added after item_id and one
   * at the end, both with defaults (BACKWARD, as the registry accepts).
   */
  static Schema evolved() {
    Schema compiled = InteractionEvent.getClassSchema();
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : compiled.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
      if (f.name().equals("item_id")) {
        fields.add(
            new Schema.Field("session_id", Schema.create(Schema.Type.STRING), "added", "none"));
      }
    }
    fields.add(
        new Schema.Field(
            "surface",
            Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
            "added",
            JsonProperties.NULL_VALUE));
    return Schema.createRecord(
        compiled.getName(), compiled.getDoc(), compiled.getNamespace(), false, fields);
  }

  /**
   * The defect this format mends: an instance of a later version, whose InteractionEvent has two
   * more fields, wrote the record; this one reads every field of its own schema right, because the
   * record names its writer schema. In format 1 the same bytes read as garbage or not at all.
   */
  @Test
  void readsAnEventWrittenWithAnEvolvedSchemaByItsSchemaId() throws IOException {
    registry.register(SUBJECT, InteractionEvent.getClassSchema());
    Schema evolved = evolved();
    int id = registry.register(SUBJECT, evolved);
    GenericRecord r = new GenericData.Record(evolved);
    r.put("interaction_id", "ünïcode-id-1");
    r.put("user_id", 42L);
    r.put("item_id", 7_000_000_001L);
    r.put("session_id", "s-123456789");
    r.put("event_time", Instant.parse("2026-11-30T23:59:59.999Z").toEpochMilli());
    r.put("click", true);
    r.put("like", false);
    r.put("share", true);
    r.put("dwell_seconds", 12.5f);
    r.put("device", new GenericData.EnumSymbol(evolved.getField("device").schema(), "TABLET"));
    r.put("request_id", "req-9");
    r.put("position", 3);
    r.put("surface", "home-feed");
    double[] user = {0.5, -1.25};
    double[] cross = {3.0};
    byte[] bytes = halfExampleBytes(3, user, cross, "sports", wireFormat(id, r));

    HalfExample got = serde(2).deserializer().deserialize(TOPIC, bytes);

    assertSame(got, new HalfExample(event("req-9", 3), "sports", user, cross));
    // every field of the reader's schema, one by one (the comparison above is equals())
    InteractionEvent e = got.event();
    assertThat(e.getInteractionId()).isEqualTo("ünïcode-id-1");
    assertThat(e.getUserId()).isEqualTo(42L);
    assertThat(e.getItemId()).isEqualTo(7_000_000_001L);
    assertThat(e.getEventTime()).isEqualTo(Instant.parse("2026-11-30T23:59:59.999Z"));
    assertThat(e.getClick()).isTrue();
    assertThat(e.getLike()).isFalse();
    assertThat(e.getShare()).isTrue();
    assertThat(e.getDwellSeconds()).isEqualTo(12.5f);
    assertThat(e.getDevice()).isEqualTo(Device.TABLET);
    assertThat(e.getRequestId()).isEqualTo("req-9");
    assertThat(e.getPosition()).isEqualTo(3);
    assertThat(got.category()).isEqualTo("sports");
  }

  /** An instance of an earlier version, whose InteractionEvent lacked position, wrote it. */
  @Test
  void readsAnEventWrittenWithAnOlderSchemaWithTheDefaultsOfTheFieldsItLacked() throws IOException {
    Schema compiled = InteractionEvent.getClassSchema();
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : compiled.getFields()) {
      if (!f.name().equals("position")) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    Schema older =
        Schema.createRecord(
            compiled.getName(), compiled.getDoc(), compiled.getNamespace(), false, fields);
    int id = registry.register(SUBJECT, older);
    registry.register(SUBJECT, compiled);
    GenericRecord r = new GenericData.Record(older);
    InteractionEvent expected = event("req-1", null);
    for (Schema.Field f : older.getFields()) {
      Object v = expected.get(f.name());
      r.put(
          f.name(),
          v instanceof Instant t
              ? t.toEpochMilli()
              : v instanceof Device d ? new GenericData.EnumSymbol(f.schema(), d.name()) : v);
    }
    byte[] bytes = halfExampleBytes(3, new double[] {1}, new double[0], "", wireFormat(id, r));

    assertSame(
        serde(2).deserializer().deserialize(TOPIC, bytes),
        new HalfExample(expected, "", new double[] {1}, new double[0]));
  }

  /** Format 2's event is the wire format under the interactions topic's subject. */
  @Test
  void format2CarriesTheIdOfTheCompiledSchemaUnderTheInteractionsSubject() {
    HalfExample h = new HalfExample(event(null, 1), "news", new double[] {2}, new double[] {});
    byte[] bytes = serde(2).serializer().serialize(TOPIC, h);
    int offset = 1 + 4 + 8 + 4 + 4 + 4;
    assertThat(bytes[offset]).isZero();
    assertThat(ByteBuffer.wrap(bytes, offset + 1, 4).getInt())
        .isEqualTo(registry.lookup(SUBJECT, InteractionEvent.getClassSchema()).orElseThrow());
  }

  /** With auto.register.schemas=false the schema is looked up, never registered. */
  @Test
  void withoutAutoRegisterAnUnregisteredEventSchemaFailsNamingTheSubject() {
    Serde<HalfExample> lookingUp =
        HalfExample.serde(new EventCodec(registry, INTERACTIONS, false), 2);
    HalfExample h = new HalfExample(event(null, 1), "news", new double[0], new double[0]);
    assertThatThrownBy(() -> lookingUp.serializer().serialize(TOPIC, h))
        .isInstanceOf(SerializationException.class)
        .hasStackTraceContaining("is not registered under subject '" + SUBJECT + "'");
    assertThat(registry.lookup(SUBJECT, InteractionEvent.getClassSchema())).isEmpty();
    registry.register(SUBJECT, InteractionEvent.getClassSchema());
    assertSame(
        lookingUp.deserializer().deserialize(TOPIC, lookingUp.serializer().serialize(TOPIC, h)), h);
  }

  /**
   * A registry that cannot give the writer schema is not the record's fault: the exception stays a
   * RegistryUnavailableException, which RegistryAwareDeserializationHandler fails the thread on
   * instead of skipping the record. An id the registry does not know is the record's.
   */
  @Test
  void aRegistryThatCannotGiveTheWriterSchemaIsNotTheRecordsFault() {
    HalfExample h = new HalfExample(event(null, 1), "news", new double[0], new double[0]);
    byte[] bytes = serde(2).serializer().serialize(TOPIC, h);
    Serde<HalfExample> cutOff =
        HalfExample.serde(
            new EventCodec(
                new FailingRegistry(new SchemaRegistryException("refused", 0, -1, null)),
                INTERACTIONS,
                true),
            2);
    assertThatThrownBy(() -> cutOff.deserializer().deserialize(TOPIC, bytes))
        .isExactlyInstanceOf(RegistryUnavailableException.class);
    Serde<HalfExample> forgetful =
        HalfExample.serde(
            new EventCodec(
                new FailingRegistry(new SchemaRegistryException("no such id", 404, 40403, null)),
                INTERACTIONS,
                true),
            2);
    assertThatThrownBy(() -> forgetful.deserializer().deserialize(TOPIC, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(TOPIC)
        .satisfies(e -> assertThat(RegistryUnavailableException.isCauseOf(e)).isFalse());
  }

  /** A registry whose every call fails with {@code failure}. */
  private record FailingRegistry(SchemaRegistryException failure)
      implements io.feedrank.avro.registry.SchemaRegistryClient {
    @Override
    public int register(String subject, Schema schema) {
      throw failure;
    }

    @Override
    public Optional<Integer> lookup(String subject, Schema schema) {
      throw failure;
    }

    @Override
    public Schema schemaById(int id) {
      throw failure;
    }

    @Override
    public Optional<RegisteredSchema> latest(String subject) {
      throw failure;
    }

    @Override
    public void setCompatibility(String subject, String level) {
      throw failure;
    }

    @Override
    public Optional<String> compatibility(String subject) {
      throw failure;
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
      throw failure;
    }
  }

  /**
   * Records of format 1, which the versions before format 2 write and {@code repartition.format=1}
   * writes during a rolling upgrade: the event in plain Avro of the compiled schema, no id.
   */
  @Test
  void readsFormat1() throws IOException {
    InteractionEvent e = event("req-2", 5);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(InteractionEvent.class).write(e, encoder);
    encoder.flush();
    byte[] bytes =
        halfExampleBytes(1, new double[] {0.5}, new double[] {7, 8}, "news", out.toByteArray());
    assertSame(
        serde(2).deserializer().deserialize(TOPIC, bytes),
        new HalfExample(e, "news", new double[] {0.5}, new double[] {7, 8}));
  }

  /** What {@code repartition.format=1} writes is what the versions before format 2 read. */
  @Test
  void format1IsWrittenAsTheVersionsBeforeFormat2ReadIt() throws IOException {
    HalfExample h = new HalfExample(event("req-3", 0), "música", new double[] {1.5}, new double[0]);
    byte[] bytes = serde(1).serializer().serialize(TOPIC, h);
    byte[] prefix = halfExampleBytes(1, h.user(), h.cross(), h.category(), new byte[0]);
    assertThat(Arrays.copyOf(bytes, prefix.length)).isEqualTo(prefix);
    InteractionEvent read =
        new SpecificDatumReader<>(InteractionEvent.class)
            .read(
                null,
                DecoderFactory.get()
                    .binaryDecoder(bytes, prefix.length, bytes.length - prefix.length, null));
    assertThat(read).isEqualTo(h.event());
    assertThat(registry.lookup(SUBJECT, InteractionEvent.getClassSchema()))
        .as("format 1 asks no registry")
        .isEmpty();
  }

  /** Records an older version of the app left in the topic: half-built training examples. */
  @Test
  void readsTheHalfBuiltTrainingExamplesOfTheFormerFormat() {
    InteractionEvent e = event("req-1", 0);
    TrainingExample old =
        TrainingExample.newBuilder()
            .setInteractionId(e.getInteractionId())
            .setUserId(e.getUserId())
            .setItemId(e.getItemId())
            .setEventTime(e.getEventTime())
            .setDevice(e.getDevice())
            .setRequestId(e.getRequestId())
            .setPosition(e.getPosition())
            .setItemCategory("sports")
            .setHourOfDay(23)
            .setDayOfWeek(1)
            .setFeatureSchemaVersion(1)
            .setUserFeatures(List.of(1.5, 0.25))
            .setItemFeatures(List.of())
            .setCrossFeatures(List.of(3.0))
            .setClick(e.getClick())
            .setLike(e.getLike())
            .setShare(e.getShare())
            .setDwellSeconds(e.getDwellSeconds())
            .build();
    byte[] bytes = StateSerdes.plainAvro(TrainingExample.class).serializer().serialize(TOPIC, old);
    assertThat(bytes[0] % 2).as("an Avro string length, zigzag: even").isZero();
    assertSame(
        serde(2).deserializer().deserialize(TOPIC, bytes),
        new HalfExample(e, "sports", new double[] {1.5, 0.25}, new double[] {3.0}));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void corruptBytesFailAsASerializationError(int format) {
    Serde<HalfExample> serde = serde(format);
    byte[] bytes =
        serde
            .serializer()
            .serialize(
                TOPIC, new HalfExample(event(null, null), "x", new double[4], new double[1]));
    assertThatThrownBy(
            () -> serde.deserializer().deserialize(TOPIC, Arrays.copyOf(bytes, bytes.length - 10)))
        .isInstanceOf(SerializationException.class);
    byte[] badCount = bytes.clone();
    badCount[1] = 0x7F;
    assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, badCount))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(TOPIC);
    // a category declared 2 GB long (after the tag, 4 + 4 x 8 bytes and 4 + 1 x 8 bytes of
    // features) is refused before it is allocated
    byte[] badCategory = bytes.clone();
    badCategory[1 + 4 + 32 + 4 + 8] = 0x7F;
    assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, badCategory))
        .isInstanceOf(SerializationException.class)
        .hasRootCauseMessage("bad category length 2130706433");
  }
}
