package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.avro.serde.WireFormat;
import io.feedrank.events.Device;
import io.feedrank.events.DriftKind;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ModelVersion;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The serdes and the registry client against the real Apicurio Registry server. */
@LocalStackTest
class SerdeRegistryIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static SchemaRegistryClient client;
  private static String registryUrl;

  @BeforeAll
  static void connect(LocalStack stack) {
    registryUrl = stack.registryUrl();
    // a fresh client, so nothing is answered from the stack's own cache
    client = new HttpSchemaRegistryClient(RegistryConfig.of(registryUrl));
  }

  @Test
  void everyRecordRoundTripsThroughTheRealRegistry() {
    for (SpecificRecord record : SampleRecords.oneOfEach()) {
      String topic =
          Topics.ALL.stream()
              .filter(t -> t.valueType() == record.getClass())
              .findFirst()
              .orElseThrow()
              .name();
      byte[] bytes = serializer().serialize(topic, record);

      int id = WireFormat.schemaId(bytes, topic);
      assertThat(client.lookup(topic + "-value", record.getSchema())).contains(id);

      SpecificRecord back =
          deserializer(record.getClass().asSubclass(SpecificRecord.class))
              .deserialize(topic, bytes);
      assertThat(back).as(record.getClass().getSimpleName()).isEqualTo(record);
    }
  }

  @Test
  void everySubjectIsRegisteredWithFullTransitiveCompatibility() {
    for (Topics.TopicSpec t : Topics.ALL) {
      assertThat(client.compatibility(t.valueSubject()))
          .as(t.valueSubject())
          .contains("FULL_TRANSITIVE");
      assertThat(client.latest(t.valueSubject())).as(t.valueSubject()).isPresent();
    }
  }

  /**
   * Changes BACKWARD accepts though the running readers cannot read what they write: dwell_seconds
   * widened to double (a reader of the float schema cannot read a double), click dropped (it has no
   * default for a reader that still has it). Under the platform's level the registry refuses them.
   */
  @Test
  void changesRunningReadersCannotReadAreRefused() {
    String subject = "evolution-readers-" + UUID.randomUUID() + "-value";
    client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
    client.register(subject, InteractionEvent.getClassSchema());

    Schema widened =
        withFieldType(
            InteractionEvent.getClassSchema(), "dwell_seconds", Schema.create(Schema.Type.DOUBLE));
    assertThat(client.isCompatible(subject, widened)).isFalse();
    assertThatThrownBy(() -> client.register(subject, widened))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue())
        .hasMessageContaining("FLOAT not compatible with writer type: DOUBLE");

    Schema dropped = withoutFields(InteractionEvent.getClassSchema(), "click");
    assertThatThrownBy(() -> client.register(subject, dropped))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue());
  }

  /**
   * v1 has x (a string with a default), v2 removes it, v3 adds x back as an int: each is compatible
   * with the one before it both ways, so the non-transitive levels accept v3 (FULL here, as
   * Apicurio 3.0.9 shows), yet v3's readers cannot read v1's records, which a compacted topic keeps
   * for ever. The platform's level checks v3 against every version and refuses it.
   */
  @Test
  void aChangeCompatibleWithTheLatestOnlyIsRefused() {
    Schema v2 = ModelVersion.getClassSchema();
    Schema v1 = withExtraStringField(v2, "x", "");
    Schema v3 = withExtraField(v2, "x", Schema.create(Schema.Type.INT), 0);

    String latestOnly = "evolution-full-" + UUID.randomUUID() + "-value";
    client.setCompatibility(latestOnly, "FULL");
    client.register(latestOnly, v1);
    client.register(latestOnly, v2);
    client.register(latestOnly, v3);

    String subject = "evolution-transitive-" + UUID.randomUUID() + "-value";
    client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
    client.register(subject, v1);
    client.register(subject, v2);
    assertThatThrownBy(() -> client.register(subject, v3))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue())
        .hasMessageContaining("INT not compatible with writer type: STRING");
  }

  /**
   * Every version of every value schema this project has shipped, registered in order under the
   * platform's level and followed by the compiled one, is accepted: the level refuses none of the
   * evolutions made so far. The earlier versions are the {@code .avsc} files as they were in the
   * commits that changed them ({@code schema-history/<Record>.<n>.avsc}, n from 1); {@code
   * InteractionEvent.1} is the event before request_id and position (the repository's history
   * begins after they were added).
   */
  @Test
  void everyShippedSchemasHistoryRegistersInOrder() throws Exception {
    for (Topics.TopicSpec t : Topics.ALL) {
      String subject = "history-" + t.name() + "-" + UUID.randomUUID() + "-value";
      client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
      List<Schema> versions = new ArrayList<>(shippedBefore(t.valueType().getSimpleName()));
      versions.add(t.valueSchema());
      for (int i = 0; i < versions.size(); i++) {
        Schema v = versions.get(i);
        assertThatCode(() -> client.register(subject, v))
            .as("%s version %d of %d", t.valueType().getSimpleName(), i + 1, versions.size())
            .doesNotThrowAnyException();
      }
      assertThat(client.latest(subject).orElseThrow().version()).isEqualTo(versions.size());
    }
  }

  /** The versions shipped before the compiled schema of {@code record}, oldest first. */
  private static List<Schema> shippedBefore(String record) throws Exception {
    List<Schema> out = new ArrayList<>();
    for (int n = 1; ; n++) {
      try (var in =
          SerdeRegistryIT.class.getResourceAsStream(
              "/schema-history/" + record + "." + n + ".avsc")) {
        if (in == null) {
          return out;
        }
        // the named types of avro-schemas/src/main/avro/common, as the build imports them
        Schema.Parser parser = new Schema.Parser();
        parser.parse(Device.getClassSchema().toString());
        parser.parse(DriftKind.getClassSchema().toString());
        out.add(parser.parse(in));
      }
    }
  }

  @Test
  void newReaderReadsDataWrittenWithAnOlderSchema() throws Exception {
    String topic = "evolution-old-writer-" + UUID.randomUUID();
    String subject = topic + "-value";
    client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
    // the schema as it was before request_id and position were added (both have defaults)
    Schema old = withoutFields(InteractionEvent.getClassSchema(), "request_id", "position");
    int oldId = client.register(subject, old);
    // the current schema is a compatible evolution of it
    assertThat(client.isCompatible(subject, InteractionEvent.getClassSchema())).isTrue();
    client.register(subject, InteractionEvent.getClassSchema());

    GenericRecord rec = new GenericData.Record(old);
    rec.put("interaction_id", "old-1");
    rec.put("user_id", 5L);
    rec.put("item_id", 9L);
    rec.put("event_time", 1_700_000_000_000L);
    rec.put("click", true);
    rec.put("like", false);
    rec.put("share", false);
    rec.put("dwell_seconds", 12.5f);
    rec.put("device", new GenericData.EnumSymbol(old.getField("device").schema(), "TABLET"));

    InteractionEvent read =
        deserializer(InteractionEvent.class).deserialize(topic, wire(oldId, old, rec));

    assertThat(read.getInteractionId()).isEqualTo("old-1");
    assertThat(read.getUserId()).isEqualTo(5L);
    assertThat(read.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
    assertThat(read.getDwellSeconds()).isEqualTo(12.5f);
    assertThat(read.getDevice()).isEqualTo(Device.TABLET);
    assertThat(read.getRequestId()).isNull(); // the reader's default
    assertThat(read.getPosition()).isNull();
  }

  @Test
  void oldReaderReadsDataWrittenWithANewerSchema() throws Exception {
    String topic = "evolution-new-writer-" + UUID.randomUUID();
    String subject = topic + "-value";
    client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
    client.register(subject, InteractionEvent.getClassSchema());
    // a newer schema adds a field with a default: compatible both ways, so the registry accepts it
    Schema newer = withExtraStringField(InteractionEvent.getClassSchema(), "experiment", "control");
    int newId = client.register(subject, newer);

    InteractionEvent original = SampleRecords.interaction(new Random(3));
    GenericRecord rec = new GenericData.Record(newer);
    for (Schema.Field f : InteractionEvent.getClassSchema().getFields()) {
      Object v = original.get(f.pos());
      if (v instanceof Instant i) {
        v = i.toEpochMilli();
      } else if (v instanceof Device d) {
        v = new GenericData.EnumSymbol(newer.getField("device").schema(), d.name());
      }
      rec.put(f.name(), v);
    }
    rec.put("experiment", "treatment-b");

    InteractionEvent read =
        deserializer(InteractionEvent.class).deserialize(topic, wire(newId, newer, rec));
    assertThat(read).isEqualTo(original);
  }

  @Test
  void incompatibleChangeIsRefusedWithTheRegistrysMessage() {
    String subject = "evolution-incompatible-" + UUID.randomUUID() + "-value";
    client.setCompatibility(subject, AvroSerdes.COMPATIBILITY);
    client.register(subject, InteractionEvent.getClassSchema());
    // a new required field without a default: new readers could not read old data
    Schema bad = withRequiredField(InteractionEvent.getClassSchema(), "campaign_id");

    assertThat(client.isCompatible(subject, bad)).isFalse();
    assertThatThrownBy(() -> client.register(subject, bad))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue())
        .hasMessageContaining("HTTP 409")
        .hasMessageContaining("Incompatible")
        .hasMessageContaining("campaign_id");
  }

  @Test
  void badMagicByteFailsWithAClearError() {
    byte[] bytes =
        serializer().serialize(Topics.INTERACTIONS, SampleRecords.interaction(new Random(1)));
    bytes[0] = 1;
    assertThatThrownBy(
            () -> deserializer(InteractionEvent.class).deserialize(Topics.INTERACTIONS, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown magic byte 0x01")
        .hasMessageContaining("'interactions'");
  }

  @Test
  void unknownSchemaIdFailsWithAClearError() {
    byte[] bytes =
        serializer().serialize(Topics.INTERACTIONS, SampleRecords.interaction(new Random(1)));
    ByteBuffer.wrap(bytes).putInt(1, 987_654_321);
    assertThatThrownBy(
            () -> deserializer(InteractionEvent.class).deserialize(Topics.INTERACTIONS, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown schema id 987654321")
        .hasMessageContaining("HTTP 404")
        // the registry answered: the record is at fault, and a consumer may dead-letter it
        .isNotInstanceOf(RegistryUnavailableException.class);
  }

  @Test
  void unreachableRegistryFailsWithAClearErrorAfterBoundedRetries() {
    int closedPort = Ports.freePort();
    SchemaRegistryClient dead =
        new HttpSchemaRegistryClient(
            RegistryConfig.of("http://127.0.0.1:" + closedPort)
                .withRetries(2, java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(20)));
    assertThatThrownBy(() -> dead.schemaById(1))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("unreachable")
        .hasMessageContaining(Integer.toString(closedPort));
    // a record whose writer schema cannot be fetched: the registry, not the record, is at fault
    byte[] bytes =
        serializer().serialize(Topics.INTERACTIONS, SampleRecords.interaction(new Random(1)));
    assertThatThrownBy(
            () ->
                new AvroDeserializer<>(dead, InteractionEvent.class)
                    .deserialize(Topics.INTERACTIONS, bytes))
        .isInstanceOf(RegistryUnavailableException.class)
        .hasMessageContaining("could not fetch schema id")
        .hasMessageContaining("unreachable");
  }

  @Test
  void bytesFromOurSerializerDecodeWithPlainAvroAndTheRegisteredSchema() throws Exception {
    InteractionEvent event = SampleRecords.interaction(new Random(11));
    byte[] bytes = serializer().serialize(Topics.INTERACTIONS, event);
    int id = WireFormat.schemaId(bytes, Topics.INTERACTIONS);

    // the schema as the registry serves it over its REST API, nothing of ours in between
    String body = httpGet(registryUrl + "/schemas/ids/" + id);
    Schema registered = new Schema.Parser().parse(JSON.readTree(body).path("schema").asText());
    GenericRecord decoded =
        new GenericDatumReader<GenericRecord>(registered)
            .read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));

    assertThat(decoded.get("interaction_id").toString()).isEqualTo(event.getInteractionId());
    assertThat(decoded.get("user_id")).isEqualTo(event.getUserId());
    assertThat(decoded.get("item_id")).isEqualTo(event.getItemId());
    assertThat(decoded.get("event_time")).isEqualTo(event.getEventTime().toEpochMilli());
    assertThat(decoded.get("click")).isEqualTo(event.getClick());
    assertThat(decoded.get("dwell_seconds")).isEqualTo(event.getDwellSeconds());
    assertThat(decoded.get("device").toString()).isEqualTo(event.getDevice().name());
    assertThat(decoded.get("position")).isEqualTo(event.getPosition());
  }

  @Test
  void schemaRegisteredThroughTheRawRestApiIsUsedByOurDeserializer() throws Exception {
    String topic = "raw-rest-" + UUID.randomUUID();
    // registered by hand, as another team's producer would: plain HTTP, no client of ours
    Schema writer = withoutFields(InteractionEvent.getClassSchema(), "position");
    String response =
        httpPost(
            registryUrl + "/subjects/" + topic + "-value/versions",
            JSON.createObjectNode().put("schema", writer.toString()).toString());
    int id = JSON.readTree(response).path("id").asInt();

    GenericRecord rec = new GenericData.Record(writer);
    rec.put("interaction_id", "raw-1");
    rec.put("user_id", 77L);
    rec.put("item_id", 88L);
    rec.put("event_time", 1_763_000_000_000L);
    rec.put("click", false);
    rec.put("like", true);
    rec.put("share", false);
    rec.put("dwell_seconds", 3.0f);
    rec.put("device", new GenericData.EnumSymbol(writer.getField("device").schema(), "MOBILE"));
    rec.put("request_id", "r-9");

    InteractionEvent read =
        deserializer(InteractionEvent.class).deserialize(topic, wire(id, writer, rec));
    assertThat(read.getInteractionId()).isEqualTo("raw-1");
    assertThat(read.getUserId()).isEqualTo(77L);
    assertThat(read.getLike()).isTrue();
    assertThat(read.getRequestId()).isEqualTo("r-9");
    assertThat(read.getPosition()).isNull();
  }

  /**
   * Confluent's serializers register with {@code ?normalize=true} when {@code normalize.schemas} is
   * set: the registry then hands the id of an earlier version whose canonical form is the same.
   * Apicurio 3.0.9's Avro canonical form drops docs but keeps the order of the fields, so a schema
   * with its fields reordered is a version of its own, and its records are read by their own order
   * (Apicurio 2.x sorted the fields by name, and handed it the earlier id).
   */
  @Test
  void normalizedRegistrationKeepsTheOrderOfTheFields() throws Exception {
    String url = registryUrl + "/subjects/normalize-" + UUID.randomUUID() + "-value/versions";
    Schema ab =
        SchemaBuilder.record("Pair")
            .namespace("t")
            .fields()
            .requiredLong("a")
            .requiredLong("b")
            .endRecord();
    Schema ba =
        SchemaBuilder.record("Pair")
            .namespace("t")
            .fields()
            .requiredLong("b")
            .requiredLong("a")
            .endRecord();
    Schema abWithDoc =
        SchemaBuilder.record("Pair")
            .namespace("t")
            .doc("a pair")
            .fields()
            .requiredLong("a")
            .requiredLong("b")
            .endRecord();

    int id = registerNormalized(url, ab);

    // normalized: a doc more is the same schema
    assertThat(registerNormalized(url, abWithDoc)).isEqualTo(id);
    assertThat(registerNormalized(url, ba)).isNotEqualTo(id);
  }

  private static int registerNormalized(String versionsUrl, Schema schema) throws Exception {
    String body = JSON.createObjectNode().put("schema", schema.toString()).toString();
    return JSON.readTree(httpPost(versionsUrl + "?normalize=true", body)).path("id").asInt();
  }

  @Test
  void withAutoRegisterOffAnUnregisteredSchemaIsRefused() {
    AvroSerializer<InteractionEvent> s = new AvroSerializer<>();
    s.configure(
        Map.of(RegistryConfig.URL, registryUrl, AvroSerializer.AUTO_REGISTER, "false"), false);
    assertThatThrownBy(
            () ->
                s.serialize(
                    "never-registered-" + UUID.randomUUID(),
                    SampleRecords.interaction(new Random(2))))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("is not registered under subject");
  }

  private static <T extends SpecificRecord> AvroSerializer<T> serializer() {
    AvroSerializer<T> s = new AvroSerializer<>();
    s.configure(Map.of(RegistryConfig.URL, registryUrl), false);
    return s;
  }

  private static <T extends SpecificRecord> AvroDeserializer<T> deserializer(Class<T> type) {
    AvroDeserializer<T> d = new AvroDeserializer<>();
    d.configure(
        Map.of(RegistryConfig.URL, registryUrl, AvroDeserializer.VALUE_TYPE, type.getName()),
        false);
    return d;
  }

  /** Confluent wire format written by hand with plain Avro. */
  private static byte[] wire(int id, Schema schema, GenericRecord rec) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(rec, enc);
    enc.flush();
    return out.toByteArray();
  }

  private static Schema withoutFields(Schema s, String... names) {
    List<String> drop = List.of(names);
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : s.getFields()) {
      if (!drop.contains(f.name())) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    return Schema.createRecord(s.getName(), s.getDoc(), s.getNamespace(), false, fields);
  }

  private static Schema withExtraStringField(Schema s, String name, String dflt) {
    return withExtraField(s, name, Schema.create(Schema.Type.STRING), dflt);
  }

  private static Schema withExtraField(Schema s, String name, Schema type, Object dflt) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : s.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field(name, type, null, dflt));
    return Schema.createRecord(s.getName(), s.getDoc(), s.getNamespace(), false, fields);
  }

  private static Schema withFieldType(Schema s, String name, Schema type) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : s.getFields()) {
      fields.add(
          f.name().equals(name) ? new Schema.Field(f, type) : new Schema.Field(f, f.schema()));
    }
    return Schema.createRecord(s.getName(), s.getDoc(), s.getNamespace(), false, fields);
  }

  private static Schema withRequiredField(Schema s, String name) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : s.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field(name, Schema.create(Schema.Type.LONG), null, (Object) null));
    return Schema.createRecord(s.getName(), s.getDoc(), s.getNamespace(), false, fields);
  }

  private static String httpGet(String url) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + url + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private static String httpPost(String url, String body) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST " + url + ": " + r.body()).isEqualTo(200);
    return r.body();
  }
}
