package io.feedrank.trainer.registry;

import io.feedrank.events.ModelVersion;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;

/** What operators do to the registry ({@code ./feedrank registry list | promote | rollback}). */
public final class RegistryCommands {
  private final ModelRegistry registry;
  private final String modelName;
  private final Clock clock;

  public RegistryCommands(ModelRegistry registry, String modelName, Clock clock) {
    this.registry = registry;
    this.modelName = modelName;
    this.clock = clock;
  }

  /** Every version, oldest first. */
  public List<ModelVersion> list() {
    return registry.versions(modelName).stream()
        .sorted(
            Comparator.comparing(ModelVersion::getCreatedAt)
                .thenComparing(ModelVersion::getVersion))
        .toList();
  }

  /** Puts {@code version} in production (the current one is archived); returns what was written. */
  public List<ModelVersion> promote(String version, String reason) {
    return registry.update(
        modelName, current -> Promotion.promote(current, version, reason, clock.instant()));
  }

  /** Production goes back to the version the current one replaced; returns what was written. */
  public List<ModelVersion> rollback() {
    return registry.update(modelName, current -> Promotion.rollback(current, clock.instant()));
  }
}
