package io.feedrank.trainer.registry;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The model registry: the latest record of every version of a model, and a way to write new states.
 * Backed by the compacted {@code model-registry} topic ({@link KafkaModelRegistry}).
 */
public interface ModelRegistry {

  /** The current state of every version of {@code modelName}. */
  List<ModelVersion> versions(String modelName);

  /** Writes new states; returns once they are durable. */
  void publish(List<ModelVersion> updates);

  /** The newest version in {@code stage} (by {@code updated_at}), if any. */
  static Optional<ModelVersion> newest(List<ModelVersion> versions, ModelStage stage) {
    return versions.stream()
        .filter(v -> v.getStage() == stage)
        .max(Comparator.comparing(ModelVersion::getUpdatedAt));
  }
}
