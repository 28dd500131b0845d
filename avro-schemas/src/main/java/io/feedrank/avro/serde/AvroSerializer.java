package io.feedrank.avro.serde;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serializes generated Avro records in the Confluent wire format, registering (or, with {@code
 * auto.register.schemas=false}, looking up) the record's schema under {@code <topic>-value} or
 * {@code <topic>-key}. Thread-safe: a producer may call it from several threads.
 */
public final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {
  /** Register the writer schema when it is not registered yet (default true). */
  public static final String AUTO_REGISTER = "auto.register.schemas";

  private SchemaRegistryClient client;
  private boolean ownsClient;
  private boolean isKey;
  private boolean autoRegister = true;
  private final Map<String, Integer> idBySubjectAndClass = new ConcurrentHashMap<>();
  private final Map<Class<?>, DatumWriter<Object>> writers = new ConcurrentHashMap<>();
  private final EncodeBuffer buffer = new EncodeBuffer();

  /** For Kafka's reflective instantiation; {@link #configure} must follow. */
  public AvroSerializer() {}

  /** With a shared client (not closed by this serializer). */
  public AvroSerializer(SchemaRegistryClient client, boolean autoRegister) {
    this.client = client;
    this.autoRegister = autoRegister;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.isKey = isKey;
    if (client == null) {
      client = new HttpSchemaRegistryClient(RegistryConfig.fromMap(configs));
      ownsClient = true;
    }
    autoRegister = autoRegister(configs, autoRegister);
  }

  /**
   * {@value #AUTO_REGISTER} from a configuration: {@code true} or {@code false}, else {@code
   * otherwise} when absent; any other value is refused, naming the key (a typo must not turn
   * registration off, or on, silently).
   */
  public static boolean autoRegister(Map<String, ?> configs, boolean otherwise) {
    Object v = configs.get(AUTO_REGISTER);
    if (v == null || v.toString().isBlank()) {
      return otherwise;
    }
    String s = v.toString().trim();
    if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new IllegalArgumentException(AUTO_REGISTER + " must be true or false, got '" + v + "'");
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) {
      return null;
    }
    if (client == null) {
      throw new IllegalStateException("AvroSerializer used before configure()");
    }
    int id = schemaId(topic, record);
    try {
      byte[] bytes = buffer.encode(WireFormat.HEADER_LENGTH, writerFor(record), record);
      WireFormat.writeHeader(bytes, id);
      return bytes;
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "could not serialize "
              + record.getSchema().getFullName()
              + " for topic '"
              + topic
              + "': "
              + e.getMessage(),
          e);
    }
  }

  private int schemaId(String topic, T record) {
    String subject = topic + (isKey ? "-key" : "-value");
    String cacheKey = subject + '\u0000' + record.getClass().getName();
    Integer id = idBySubjectAndClass.get(cacheKey);
    if (id != null) {
      return id;
    }
    Schema schema = record.getSchema();
    try {
      if (autoRegister) {
        id = client.register(subject, schema);
      } else {
        id =
            client
                .lookup(subject, schema)
                .orElseThrow(
                    () ->
                        new SerializationException(
                            "schema "
                                + schema.getFullName()
                                + " is not registered under subject '"
                                + subject
                                + "' and "
                                + AUTO_REGISTER
                                + "=false"));
      }
    } catch (SchemaRegistryException e) {
      throw new SerializationException(
          "could not get a schema id for "
              + schema.getFullName()
              + " under subject '"
              + subject
              + "': "
              + e.getMessage(),
          e);
    }
    idBySubjectAndClass.put(cacheKey, id);
    return id;
  }

  @SuppressWarnings("unchecked")
  private DatumWriter<Object> writerFor(T record) {
    return writers.computeIfAbsent(
        record.getClass(),
        c ->
            (DatumWriter<Object>)
                (DatumWriter<?>)
                    new SpecificDatumWriter<>(record.getSchema(), SpecificData.getForClass(c)));
  }

  @Override
  public void close() {
    if (ownsClient && client != null) {
      client.close();
    }
  }
}
