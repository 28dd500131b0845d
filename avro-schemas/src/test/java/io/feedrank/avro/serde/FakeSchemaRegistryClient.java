package io.feedrank.avro.serde;

import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * In-memory registry for serde unit tests: ids are assigned in order from a start value (1 by
 * default), the same schema under the same subject keeps its id, and every call is recorded.
 */
final class FakeSchemaRegistryClient implements SchemaRegistryClient {
  final Map<Integer, Schema> byId = new HashMap<>();
  final Map<String, List<Integer>> idsBySubject = new HashMap<>();
  final Map<String, String> compatibilityBySubject = new HashMap<>();
  final List<String> calls = new ArrayList<>();
  private int nextId;

  /** When set, schemaById throws it (to simulate a registry failure). */
  SchemaRegistryException schemaByIdFailure;

  /** When set, register throws it (to simulate a registry refusal). */
  SchemaRegistryException registerFailure;

  FakeSchemaRegistryClient() {
    this(1);
  }

  FakeSchemaRegistryClient(int firstId) {
    this.nextId = firstId;
  }

  /** Puts a schema under a given id (as if another producer had registered it). */
  synchronized void put(int id, String subject, Schema schema) {
    byId.put(id, schema);
    idsBySubject.computeIfAbsent(subject, s -> new ArrayList<>()).add(id);
  }

  synchronized long count(String prefix) {
    return calls.stream().filter(c -> c.startsWith(prefix)).count();
  }

  @Override
  public synchronized int register(String subject, Schema schema) {
    calls.add("register " + subject);
    if (registerFailure != null) {
      throw registerFailure;
    }
    Optional<Integer> existing = find(subject, schema);
    if (existing.isPresent()) {
      return existing.get();
    }
    int id = nextId++;
    put(id, subject, schema);
    return id;
  }

  @Override
  public synchronized Optional<Integer> lookup(String subject, Schema schema) {
    calls.add("lookup " + subject);
    return find(subject, schema);
  }

  private Optional<Integer> find(String subject, Schema schema) {
    return idsBySubject.getOrDefault(subject, List.of()).stream()
        .filter(id -> byId.get(id).equals(schema))
        .findFirst();
  }

  @Override
  public synchronized Schema schemaById(int id) {
    calls.add("schemaById " + id);
    if (schemaByIdFailure != null) {
      throw schemaByIdFailure;
    }
    Schema s = byId.get(id);
    if (s == null) {
      throw new SchemaRegistryException("Schema " + id + " not found", 404, 40403, null);
    }
    return s;
  }

  @Override
  public synchronized Optional<RegisteredSchema> latest(String subject) {
    calls.add("latest " + subject);
    List<Integer> ids = idsBySubject.getOrDefault(subject, List.of());
    if (ids.isEmpty()) {
      return Optional.empty();
    }
    int id = ids.get(ids.size() - 1);
    return Optional.of(new RegisteredSchema(subject, ids.size(), id, byId.get(id)));
  }

  @Override
  public synchronized void setCompatibility(String subject, String level) {
    calls.add("setCompatibility " + subject + " " + level);
    compatibilityBySubject.put(subject, level);
  }

  @Override
  public synchronized Optional<String> compatibility(String subject) {
    calls.add("compatibility " + subject);
    return Optional.ofNullable(compatibilityBySubject.get(subject));
  }

  @Override
  public synchronized boolean isCompatible(String subject, Schema schema) {
    calls.add("isCompatible " + subject);
    return true;
  }
}
