package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Schemas registered as Confluent's clients in Python, Go and Node register a record that uses a
 * shared type: {@code Device} under a subject of its own, {@code InteractionEvent} naming it with a
 * {@code references} entry. Apicurio 3.0.9's {@code /schemas/ids/{id}} answers the text as stored,
 * so the reader must resolve the references itself.
 */
@LocalStackTest
class SchemaReferencesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static String registryUrl;

  /**
   * InteractionEvent as a producer that keeps Device in a file of its own writes it: the compiled
   * schema inlines the enum where this names it.
   */
  private static final String EVENT_NAMING_DEVICE =
      """
      {"type": "record", "name": "InteractionEvent", "namespace": "io.feedrank.events",
       "fields": [
        {"name": "interaction_id", "type": "string"},
        {"name": "user_id", "type": "long"},
        {"name": "item_id", "type": "long"},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "click", "type": "boolean"},
        {"name": "like", "type": "boolean"},
        {"name": "share", "type": "boolean"},
        {"name": "dwell_seconds", "type": "float"},
        {"name": "device", "type": "io.feedrank.events.Device", "default": "UNKNOWN"},
        {"name": "request_id", "type": ["null", "string"], "default": null},
        {"name": "position", "type": ["null", "int"], "default": null}
       ]}
      """;

  @BeforeAll
  static void connect(LocalStack stack) {
    registryUrl = stack.registryUrl();
  }

  @Test
  void anEventWhoseDeviceIsAReferenceIsRead() throws Exception {
    String topic = "refs-" + UUID.randomUUID();
    String deviceSubject = "device-" + UUID.randomUUID();
    register(deviceSubject, Device.getClassSchema().toString(), List.of());
    int id = register(topic + "-value", EVENT_NAMING_DEVICE, List.of(device(deviceSubject, 1)));

    InteractionEvent event = event(Device.TABLET);
    InteractionEvent read = deserializer().deserialize(topic, wire(id, event));

    assertThat(read).isEqualTo(event);
    try (SchemaRegistryClient client = freshClient()) {
      Schema latest = client.latest(topic + "-value").orElseThrow().schema();
      assertThat(latest.getField("device").schema().getEnumSymbols())
          .containsExactlyElementsOf(Device.getClassSchema().getEnumSymbols());
    }
  }

  /**
   * A referenced version soft-deleted after the records were written still defines their types, as
   * Confluent's own client reads it ({@code ?deleted=true}). Apicurio 3.0.9 answers 404 for every
   * version of a subject whose versions are all soft-deleted, so the subject keeps a second version
   * here; it refuses to delete a referenced version unless a version that refers to it is
   * soft-deleted first.
   */
  @Test
  void aReferencedVersionSoftDeletedStillDefinesTheRecordsTypes() throws Exception {
    String topic = "refs-deleted-" + UUID.randomUUID();
    String deviceSubject = "device-" + UUID.randomUUID();
    register(deviceSubject, Device.getClassSchema().toString(), List.of());
    String withWatch =
        Device.getClassSchema().toString().replace("\"TABLET\",", "\"TABLET\",\"WATCH\",");
    register(deviceSubject, withWatch, List.of());
    int id = register(topic + "-value", EVENT_NAMING_DEVICE, List.of(device(deviceSubject, 1)));
    delete(topic + "-value/versions/1");
    delete(deviceSubject + "/versions/1");

    InteractionEvent event = event(Device.MOBILE);
    assertThat(deserializer().deserialize(topic, wire(id, event))).isEqualTo(event);
  }

  private static ObjectNode device(String subject, int version) {
    return JSON.createObjectNode()
        .put("name", "io.feedrank.events.Device")
        .put("subject", subject)
        .put("version", version);
  }

  /** {@code DELETE /subjects/<path>}, as an operator deletes a version. */
  private static void delete(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(registryUrl + "/subjects/" + path))
                    .DELETE()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("DELETE %s: %s", path, r.body()).isEqualTo(200);
  }

  private static ObjectNode reference(String name, String subject, int version) {
    return JSON.createObjectNode()
        .put("name", name)
        .put("subject", subject)
        .put("version", version);
  }

  /**
   * Registers as confluent-kafka (Python) does: {@code POST /subjects/{subject}/versions
   * ?normalize=false} with the text, {@code schemaType} and the references.
   */
  private static int register(String subject, String text, List<ObjectNode> references)
      throws Exception {
    ObjectNode body = JSON.createObjectNode().put("schema", text).put("schemaType", "AVRO");
    body.putArray("references").addAll(references);
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            registryUrl + "/subjects/" + subject + "/versions?normalize=false"))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("register under %s: %s", subject, r.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.has("id")).as(r.body()).isTrue();
    return answer.path("id").asInt();
  }

  private static InteractionEvent event(Device device) {
    return InteractionEvent.newBuilder()
        .setInteractionId("ref-1")
        .setUserId(5L)
        .setItemId(9L)
        .setEventTime(Instant.ofEpochMilli(1_763_000_000_000L))
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(12.5f)
        .setDevice(device)
        .setRequestId("r-1")
        .setPosition(3)
        .build();
  }

  /** {@code [0, id] + Avro binary}, written by plain Avro. */
  private static byte[] wire(int id, InteractionEvent event) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(InteractionEvent.class).write(event, enc);
    enc.flush();
    return out.toByteArray();
  }

  /** A fresh client each time, so that nothing is answered from another test's cache. */
  private static SchemaRegistryClient freshClient() {
    return new HttpSchemaRegistryClient(RegistryConfig.of(registryUrl));
  }

  private static AvroDeserializer<InteractionEvent> deserializer() {
    AvroDeserializer<InteractionEvent> d = new AvroDeserializer<>();
    d.configure(
        Map.of(
            RegistryConfig.URL,
            registryUrl,
            AvroDeserializer.VALUE_TYPE,
            InteractionEvent.class.getName()),
        false);
    return d;
  }
}
