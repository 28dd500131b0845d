package io.feedrank.avro.registry;

import java.util.Optional;
import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry REST API the platform uses. Implementations cache what
 * cannot change (a schema by id, the id of a registered schema) and are thread-safe.
 */
public interface SchemaRegistryClient extends AutoCloseable {

  /** Registers {@code schema} under {@code subject} (idempotent) and returns its global id. */
  int register(String subject, Schema schema);

  /** The id of {@code schema} if it is registered under {@code subject}. */
  Optional<Integer> lookup(String subject, Schema schema);

  /** The writer schema with this id; throws {@link SchemaRegistryException} when unknown. */
  Schema schemaById(int id);

  /** Latest version registered under the subject, if any. */
  Optional<RegisteredSchema> latest(String subject);

  /** Sets the compatibility level of a subject (BACKWARD, FORWARD, FULL, NONE, ..._TRANSITIVE). */
  void setCompatibility(String subject, String level);

  /** The subject's compatibility level, if one is set on the subject itself. */
  Optional<String> compatibility(String subject);

  /** Whether {@code schema} could be registered under the subject given its compatibility. */
  boolean isCompatible(String subject, Schema schema);

  @Override
  default void close() {}

  /** A schema as the registry holds it. */
  record RegisteredSchema(String subject, int version, int id, Schema schema) {}
}
