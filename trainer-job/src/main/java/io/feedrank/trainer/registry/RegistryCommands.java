package io.feedrank.trainer.registry;

import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.prune.PrunedArtifacts;
import io.feedrank.trainer.prune.StoreLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;

/**
 * What operators do to the registry ({@code ./feedrank registry list | promote | rollback |
 * archive}).
 */
public final class RegistryCommands {
  private final ModelRegistry registry;
  private final String modelName;
  private final Clock clock;
  private final Path artifactRoot; // null: no store known, no check

  public RegistryCommands(ModelRegistry registry, String modelName, Clock clock) {
    this(registry, modelName, clock, null);
  }

  /**
   * @param artifactRoot the artifact store's root as this process sees it: a promotion or rollback
   *     to a version whose artifacts were pruned from it is refused, nothing written; the check and
   *     the write hold the store's {@link StoreLock}, so that a prune cannot delete the files in
   *     between
   */
  public RegistryCommands(
      ModelRegistry registry, String modelName, Clock clock, Path artifactRoot) {
    this.registry = registry;
    this.modelName = modelName;
    this.clock = clock;
    this.artifactRoot = artifactRoot;
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
    return locked(
        () ->
            registry.update(
                modelName,
                current -> servable(Promotion.promote(current, version, reason, clock.instant()))));
  }

  /** Production goes back to the version the current one replaced; returns what was written. */
  public List<ModelVersion> rollback() {
    return rollback(null);
  }

  /** {@link #rollback()}, {@code who} rolled back and why appended to its decision reasons. */
  public List<ModelVersion> rollback(String who) {
    return locked(
        () ->
            registry.update(
                modelName, current -> servable(Promotion.rollback(current, who, clock.instant()))));
  }

  /**
   * Archives a STAGING or CANDIDATE {@code version} (ending a staging version's A/B share); returns
   * what was written. Not under the store's lock: it puts nothing in production, whose files a
   * prune must not delete in between.
   */
  public List<ModelVersion> archive(String version, String reason) {
    return registry.update(
        modelName, current -> Promotion.archive(current, version, reason, clock.instant()));
  }

  /** {@code decision} made and written holding the artifact store's lock, if there is a store. */
  private List<ModelVersion> locked(Supplier<List<ModelVersion>> decision) {
    if (artifactRoot == null) {
      return decision.get();
    }
    try (StoreLock held = StoreLock.take(artifactRoot)) {
      return decision.get();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot take or release the lock of the artifact store "
              + artifactRoot
              + " (kept against a registry prune): "
              + e,
          e);
    }
  }

  /** {@code updates}, whose first record is the version put in production, if it can be served. */
  private List<ModelVersion> servable(List<ModelVersion> updates) {
    if (artifactRoot != null) {
      new PrunedArtifacts(artifactRoot)
          .problem(updates.get(0))
          .ifPresent(
              why -> {
                throw new IllegalStateException(why);
              });
    }
    return updates;
  }
}
