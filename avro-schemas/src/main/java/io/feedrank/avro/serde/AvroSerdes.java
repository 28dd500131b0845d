package io.feedrank.avro.serde;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.SchemaRegistryClient;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/** Factories for the serdes and the schema set-up every deployment needs. */
public final class AvroSerdes {
  /**
   * Compatibility every subject of the platform is registered with: a new schema must read the
   * records of every earlier version, and every earlier version its records. DESIGN §2 says
   * BACKWARD, which checks a new schema against the latest version only, as a reader: it accepts a
   * change the running readers cannot read (a float widened to double, a field without a default
   * dropped), and a v3 that cannot read v1's records, which a compacted topic keeps. The platform's
   * readers read into compiled schemas and its schemas evolve by fields with defaults, which this
   * allows.
   */
  public static final String COMPATIBILITY = "FULL_TRANSITIVE";

  /** A configured value serde of {@code type} sharing {@code client}. */
  public static <T extends SpecificRecord> AvroSerde<T> valueSerde(
      SchemaRegistryClient client, Class<T> type) {
    return valueSerde(client, type, true);
  }

  /**
   * @param autoRegister whether the serializer registers a schema the subject lacks, or only looks
   *     it up ({@code auto.register.schemas}; false with a registry credential that may only read)
   */
  public static <T extends SpecificRecord> AvroSerde<T> valueSerde(
      SchemaRegistryClient client, Class<T> type, boolean autoRegister) {
    return new AvroSerde<>(
        new AvroSerializer<>(client, autoRegister), new AvroDeserializer<>(client, type));
  }

  /** The compiled schema of a generated class. */
  public static Schema schemaOf(Class<? extends SpecificRecord> type) {
    Schema schema = SpecificData.get().getSchema(type);
    if (schema == null || schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(type.getName() + " is not a generated Avro record class");
    }
    return schema;
  }

  /**
   * Sets {@link #COMPATIBILITY} on every topic's value subject and registers the compiled value
   * schema. Idempotent. Returns the schema id per subject.
   */
  public static Map<String, Integer> registerAll(SchemaRegistryClient client) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (Topics.TopicSpec t : Topics.ALL) {
      client.setCompatibility(t.valueSubject(), COMPATIBILITY);
      ids.put(t.valueSubject(), client.register(t.valueSubject(), t.valueSchema()));
    }
    return ids;
  }

  private AvroSerdes() {}
}
