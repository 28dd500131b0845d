package io.feedrank.localstack;

import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * A schema registry client in front of a real one that answers the first request for each schema id
 * with the registry's 404 and passes everything else on: a registry replica that has not yet read a
 * schema registered on another (a Confluent follower, Apicurio's KafkaSQL storage behind a load
 * balancer) answers so. For tests of the readers that must not take that for a bad record.
 */
public final class LaggingRegistryClient implements SchemaRegistryClient {
  private final SchemaRegistryClient registry;
  private final Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();

  public LaggingRegistryClient(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  /** How many times {@code id} was asked for, the first answered 404 by this client. */
  public int schemaByIdCalls(int id) {
    AtomicInteger n = calls.get(id);
    return n == null ? 0 : n.get();
  }

  @Override
  public Schema schemaById(int id) {
    if (calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() == 1) {
      throw new SchemaRegistryException(
          "schema registry refused to fetch schema id "
              + id
              + ": HTTP 404 error 40403: not read by this replica yet",
          404,
          40403,
          null);
    }
    return registry.schemaById(id);
  }

  @Override
  public int register(String subject, Schema schema) {
    return registry.register(subject, schema);
  }

  @Override
  public Optional<Integer> lookup(String subject, Schema schema) {
    return registry.lookup(subject, schema);
  }

  @Override
  public Optional<RegisteredSchema> latest(String subject) {
    return registry.latest(subject);
  }

  @Override
  public void setCompatibility(String subject, String level) {
    registry.setCompatibility(subject, level);
  }

  @Override
  public Optional<String> compatibility(String subject) {
    return registry.compatibility(subject);
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    return registry.isCompatible(subject, schema);
  }
}
