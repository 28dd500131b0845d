package io.feedrank.trainer.prune;

import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.runs.FileRunStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether a version's artifacts are still in the store, before an operator puts it back in
 * production ({@code registry promote}, {@code rollback}): a pruned version published as production
 * is one no ranker can load (each refuses it as {@code missing} and keeps its model) and
 * production's comparison in the next run fails.
 *
 * <p>A run writes its files to {@code <store>/<run id>/} and a prune never deletes the run's record
 * ({@code run.json}), so a store holding that record is the one the run wrote to, seen from here
 * (whatever path the trainer spelled its URIs with: only their file names are looked up in the
 * run's directory). A store without it is not known to be that one (a command run away from the
 * volume, or another store): nothing is said then, and the promotion goes ahead as before.
 */
public final class PrunedArtifacts {
  private final Path root;

  /**
   * @param root the artifact store's root as this process sees it
   */
  public PrunedArtifacts(Path root) {
    this.root = root;
  }

  /**
   * Where an artifact the trainer named {@code path} ({@code <its mount of the store>/<run
   * id>/<file>}) is under {@code root}, this process's view of the store: its run directory and
   * file name there; null for a path of fewer than two names.
   */
  static Path inStore(Path root, Path path) {
    int n = path.getNameCount();
    if (n < 2) {
      return null;
    }
    return root.resolve(path.getName(n - 2).toString()).resolve(path.getName(n - 1).toString());
  }

  /** Why {@code v} cannot be served from this store, or empty when it can or this cannot tell. */
  public Optional<String> problem(ModelVersion v) {
    Path run = root.resolve(v.getRunId());
    if (!Files.isRegularFile(run.resolve(FileRunStore.RUN_FILE))) {
      return Optional.empty();
    }
    List<String> gone = new ArrayList<>();
    for (URI u : Retention.uris(v)) {
      Path here = inStore(root, Path.of(u.getPath()));
      if (here == null || !Files.isRegularFile(here)) {
        gone.add(u.toString());
      }
    }
    if (gone.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        "version "
            + v.getVersion()
            + " cannot be put in production: its artifacts are no longer in the store "
            + root
            + " (pruned by registry prune?): "
            + String.join(", ", gone));
  }
}
