package io.feedrank.trainer.registry;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The model registry: the latest record of every version of a model, and a way to write new states.
 * Backed by the compacted {@code model-registry} topic ({@link KafkaModelRegistry}).
 */
public interface ModelRegistry {

  /** The current state of every version of {@code modelName}. */
  List<ModelVersion> versions(String modelName);

  /** Writes new states, unconditionally; returns once they are durable. */
  void publish(List<ModelVersion> updates);

  /**
   * Decides and writes: {@code decide} gets the current state of every version of {@code modelName}
   * and returns the records to write, which are written only if no other writer wrote in between;
   * else it is called again on the new state. Returns what was written. Every decision about a
   * model's stages (a run's, an operator's promotion or rollback) goes through here, so two of them
   * at once cannot both act on the state before the other (two production versions). This default
   * is for a registry with one writer.
   */
  default List<ModelVersion> update(
      String modelName, Function<List<ModelVersion>, List<ModelVersion>> decide) {
    List<ModelVersion> updates = decide.apply(versions(modelName));
    publish(updates);
    return updates;
  }

  /** The newest version in {@code stage} (by {@code updated_at}), if any. */
  static Optional<ModelVersion> newest(List<ModelVersion> versions, ModelStage stage) {
    return versions.stream()
        .filter(v -> v.getStage() == stage)
        .max(Comparator.comparing(ModelVersion::getUpdatedAt));
  }
}
