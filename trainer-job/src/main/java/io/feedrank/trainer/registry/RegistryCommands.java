package io.feedrank.trainer.registry;

import io.feedrank.events.ModelVersion;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** What operators do to the registry ({@code ./feedrank registry list | promote | rollback}). */
public final class RegistryCommands {
  private final ModelRegistry registry;
  private final String modelName;
  private final Clock clock;
  private final Function<ModelVersion, Optional<String>> unservable;

  public RegistryCommands(ModelRegistry registry, String modelName, Clock clock) {
    this(registry, modelName, clock, v -> Optional.empty());
  }

  /**
   * @param unservable why a version cannot be put in production (its artifacts pruned from the
   *     store), or empty: a promotion or rollback to such a version is refused, nothing written
   */
  public RegistryCommands(
      ModelRegistry registry,
      String modelName,
      Clock clock,
      Function<ModelVersion, Optional<String>> unservable) {
    this.registry = registry;
    this.modelName = modelName;
    this.clock = clock;
    this.unservable = unservable;
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
        modelName,
        current -> servable(Promotion.promote(current, version, reason, clock.instant())));
  }

  /** Production goes back to the version the current one replaced; returns what was written. */
  public List<ModelVersion> rollback() {
    return registry.update(
        modelName, current -> servable(Promotion.rollback(current, clock.instant())));
  }

  /** {@code updates}, whose first record is the version put in production, if it can be served. */
  private List<ModelVersion> servable(List<ModelVersion> updates) {
    unservable
        .apply(updates.get(0))
        .ifPresent(
            why -> {
              throw new IllegalStateException(why);
            });
    return updates;
  }
}
