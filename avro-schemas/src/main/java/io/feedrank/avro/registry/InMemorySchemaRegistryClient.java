package io.feedrank.avro.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A registry held in memory, for unit tests of code above the serdes (e.g. topologies in {@code
 * TopologyTestDriver}) where no server runs. Ids are global and start at 1; the same schema gets
 * the same id in every subject. BACKWARD is checked against the latest version with Avro's own
 * {@link SchemaCompatibility}; other levels are stored but not enforced. Tests of the serdes and
 * the client themselves run against the real registry server.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
  private final Map<Integer, Schema> byId = new HashMap<>();
  private final Map<String, Integer> idByCanonical = new HashMap<>();
  private final Map<String, List<Integer>> versions = new HashMap<>();
  private final Map<String, String> compatibility = new HashMap<>();

  @Override
  public synchronized int register(String subject, Schema schema) {
    List<Integer> vs = versions.computeIfAbsent(subject, k -> new ArrayList<>());
    Integer id = idByCanonical.get(schema.toString());
    if (id != null && vs.contains(id)) {
      return id;
    }
    if (!isCompatible(subject, schema)) {
      throw new SchemaRegistryException(
          "schema is incompatible with the latest version of '" + subject + "'", 409, 409, null);
    }
    if (id == null) {
      id = byId.size() + 1;
      byId.put(id, schema);
      idByCanonical.put(schema.toString(), id);
    }
    vs.add(id);
    return id;
  }

  @Override
  public synchronized Optional<Integer> lookup(String subject, Schema schema) {
    Integer id = idByCanonical.get(schema.toString());
    return id != null && versions.getOrDefault(subject, List.of()).contains(id)
        ? Optional.of(id)
        : Optional.empty();
  }

  @Override
  public synchronized Schema schemaById(int id) {
    Schema s = byId.get(id);
    if (s == null) {
      throw new SchemaRegistryException("No schema with id " + id, 404, 40403, null);
    }
    return s;
  }

  @Override
  public synchronized Optional<RegisteredSchema> latest(String subject) {
    List<Integer> vs = versions.get(subject);
    if (vs == null || vs.isEmpty()) {
      return Optional.empty();
    }
    int id = vs.get(vs.size() - 1);
    return Optional.of(new RegisteredSchema(subject, vs.size(), id, byId.get(id)));
  }

  @Override
  public synchronized void setCompatibility(String subject, String level) {
    compatibility.put(subject, level);
  }

  @Override
  public synchronized Optional<String> compatibility(String subject) {
    return Optional.ofNullable(compatibility.get(subject));
  }

  @Override
  public synchronized boolean isCompatible(String subject, Schema schema) {
    Optional<RegisteredSchema> last = latest(subject);
    if (last.isEmpty() || !"BACKWARD".equals(compatibility.getOrDefault(subject, "BACKWARD"))) {
      return true;
    }
    return SchemaCompatibility.checkReaderWriterCompatibility(schema, last.get().schema()).getType()
        == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
  }
}
