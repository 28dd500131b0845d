package io.feedrank.avro.serde;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import java.io.EOFException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-wire-format bytes into a generated Avro class. The writer schema is fetched by
 * the id in the header (cached) and resolved against the compiled reader schema, so records written
 * with an older or newer compatible schema read correctly. A record that cannot be read is a {@link
 * SerializationException}: an {@link UnknownSchemaIdException} when the registry does not know its
 * id; when the registry, not the record, is why (it could not be asked for the writer schema), a
 * {@link RegistryUnavailableException}. Thread-safe.
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  /**
   * Caps Avro puts on string and bytes lengths while decoding, unless the application set its own
   * ({@code org.apache.avro.limits.*.maxLength}). Avro's defaults are the JVM's array limit, so a
   * 10-byte record that declares a 2 GB string makes it allocate 2 GB first; no record on a Kafka
   * topic can hold more than these.
   */
  static final long MAX_DECODED_LENGTH = 64L * 1024 * 1024;

  /**
   * The cap on a collection's items. Avro allocates an array of the declared count before reading
   * an item, eight bytes an item for doubles and longs: at {@link #MAX_DECODED_LENGTH} items, a
   * 20-byte record made it allocate 512 MB. The largest collection of this platform's records is a
   * ranking log's thousand items.
   */
  static final long MAX_COLLECTION_ITEMS = 1024 * 1024;

  static {
    limit("string", MAX_DECODED_LENGTH);
    limit("bytes", MAX_DECODED_LENGTH);
    limit("collectionItems", MAX_COLLECTION_ITEMS);
    // Avro reads the properties once, when SystemLimitException is first loaded: if anything in
    // this JVM decoded Avro before this class was loaded, they would be ignored. Its own
    // (package-private) reset reads them again.
    try {
      java.lang.reflect.Method reset =
          org.apache.avro.SystemLimitException.class.getDeclaredMethod("resetLimits");
      reset.setAccessible(true);
      reset.invoke(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(AvroDeserializer.class)
          .warn(
              "Avro's decode limits may not apply (an Avro without resetLimits): {}", e.toString());
    }
  }

  private static void limit(String kind, long max) {
    String key = "org.apache.avro.limits." + kind + ".maxLength";
    if (System.getProperty(key) == null) {
      System.setProperty(key, Long.toString(max));
    }
  }

  /** Fully qualified generated class for values, when instantiated by Kafka from config. */
  public static final String VALUE_TYPE = "avro.value.type";

  /** Fully qualified generated class for keys, when instantiated by Kafka from config. */
  public static final String KEY_TYPE = "avro.key.type";

  private SchemaRegistryClient client;
  private boolean ownsClient;
  private Class<T> type;
  private Schema readerSchema;
  private SpecificData model;
  private final Map<Integer, SpecificDatumReader<T>> readersByWriterId = new ConcurrentHashMap<>();

  /**
   * Ids the registry answered with a schema of another type, and why: an id's schema never changes,
   * and each of its records would otherwise ask the registry again. Bounded by the schemas the
   * registry holds.
   */
  private final Map<Integer, String> unusableIds = new ConcurrentHashMap<>();

  /** For Kafka's reflective instantiation; {@link #configure} must follow. */
  public AvroDeserializer() {}

  /** Reading into {@code type}, with a shared client (not closed by this deserializer). */
  public AvroDeserializer(SchemaRegistryClient client, Class<T> type) {
    this.client = client;
    setType(type);
  }

  @Override
  @SuppressWarnings("unchecked")
  public void configure(Map<String, ?> configs, boolean isKey) {
    if (client == null) {
      client = new HttpSchemaRegistryClient(RegistryConfig.fromMap(configs));
      ownsClient = true;
    }
    if (type == null) {
      String key = isKey ? KEY_TYPE : VALUE_TYPE;
      Object name = configs.get(key);
      if (name == null) {
        throw new IllegalArgumentException(
            "missing config " + key + " (the generated Avro class to read into)");
      }
      try {
        setType((Class<T>) (name instanceof Class<?> c ? c : Class.forName(name.toString())));
      } catch (ClassNotFoundException e) {
        throw new IllegalArgumentException(key + " names an unknown class '" + name + "'", e);
      }
    }
  }

  private void setType(Class<T> type) {
    this.type = type;
    this.model = SpecificData.getForClass(type);
    this.readerSchema = AvroSerdes.schemaOf(type);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) { // a tombstone; an empty value is not one, and fails the header below
      return null;
    }
    if (type == null) {
      throw new IllegalStateException("AvroDeserializer used before configure()");
    }
    int id = WireFormat.schemaId(data, topic);
    SpecificDatumReader<T> reader = readerFor(id, topic);
    try {
      BinaryDecoder decoder =
          DecoderFactory.get()
              .binaryDecoder(
                  data, WireFormat.HEADER_LENGTH, data.length - WireFormat.HEADER_LENGTH, null);
      T record = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new SerializationException(
            "record on topic '"
                + topic
                + "' has trailing bytes after the Avro body (schema id "
                + id
                + ")");
      }
      return record;
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "malformed Avro body in record on topic '"
              + topic
              + "' (schema id "
              + id
              + ", reading "
              + type.getSimpleName()
              + "): "
              + describe(e),
          e);
    }
  }

  /** What went wrong reading a body: Avro's end-of-input has no message of its own. */
  private static String describe(Exception e) {
    if (e instanceof EOFException) {
      return "the body ends before the record does (truncated)";
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /**
   * Why a consumer could not decode a record, for a log line: the deserializer's own message (an
   * unknown schema id, a wrong magic byte, a truncated body), not Kafka's wrapper around it, which
   * only names the partition and offset and says to seek past.
   */
  public static String reason(RecordDeserializationException e) {
    Throwable c = e.getCause() != null ? e.getCause() : e;
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  private SpecificDatumReader<T> readerFor(int id, String topic) {
    SpecificDatumReader<T> reader = readersByWriterId.get(id);
    if (reader != null) {
      return reader;
    }
    String unusable = unusableIds.get(id);
    if (unusable != null) {
      throw unusable(id, topic, unusable, null);
    }
    Schema writer;
    try {
      writer = client.schemaById(id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        throw new UnknownSchemaIdException(
            id,
            "unknown schema id " + id + " in record on topic '" + topic + "': " + e.getMessage(),
            e);
      }
      if (e.isUnusableSchema()) {
        // the registry answered: the record, written by a JSON Schema or Protobuf serializer or
        // under a schema whose references the registry cannot give, is at fault, and is
        // dead-lettered or skipped like any bad record
        unusableIds.put(id, e.getMessage());
        throw unusable(id, topic, e.getMessage(), e);
      }
      throw new RegistryUnavailableException(
          "could not fetch schema id "
              + id
              + " in record on topic '"
              + topic
              + "' (the registry, not the record): "
              + e.getMessage(),
          e);
    }
    reader = new SpecificDatumReader<>(writer, readerSchema, model);
    readersByWriterId.put(id, reader);
    return reader;
  }

  private static SerializationException unusable(
      int id, String topic, String why, Throwable cause) {
    return new SerializationException(
        "schema id "
            + id
            + " of record on topic '"
            + topic
            + "' is not a usable Avro schema: "
            + why,
        cause);
  }

  @Override
  public void close() {
    if (ownsClient && client != null) {
      client.close();
    }
  }
}
