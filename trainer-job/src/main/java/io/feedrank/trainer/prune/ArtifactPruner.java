package io.feedrank.trainer.prune;

import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.prune.Retention.Plan;
import io.feedrank.trainer.prune.Retention.RunState;
import io.feedrank.trainer.prune.Retention.StoredFile;
import io.feedrank.trainer.registry.ModelRegistry;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./feedrank registry prune}: deletes the files of a filesystem artifact store that {@link
 * Retention} does not keep. Only regular files under the store's root (its real path) are looked at
 * or deleted, never a symbolic link or what it leads to; directories are left (each run keeps its
 * {@code run.json}). The registry is read again right before deleting and a file a version kept by
 * then names (an operator's promotion meanwhile) is not deleted; from that read through the last
 * delete the prune holds the store's {@link StoreLock}, which a promotion or rollback holds around
 * its check that the version's files are there and its write, so none is written in between.
 */
public final class ArtifactPruner {
  private static final Logger log = LoggerFactory.getLogger(ArtifactPruner.class);

  /** The plan, and what was deleted (nothing on a dry run) or could not be. */
  public record Result(Plan plan, List<StoredFile> deleted, List<String> failed) {}

  private final FileArtifactStore store;
  private final FileRunStore runs;
  private final ModelRegistry registry;
  private final String modelName;
  private final Clock clock;

  public ArtifactPruner(
      FileArtifactStore store,
      FileRunStore runs,
      ModelRegistry registry,
      String modelName,
      Clock clock) {
    this.store = store;
    this.runs = runs;
    this.registry = registry;
    this.modelName = modelName;
    this.clock = clock;
  }

  /**
   * @param keepArchived how many of the newest ARCHIVED versions keep their artifacts
   * @param grace files modified within it are kept, and those of a RUNNING run whose record was
   *     saved within it or within {@link Retention#RUN_IN_FLIGHT}, whichever is longer
   */
  public Result prune(int keepArchived, Duration grace, boolean dryRun) throws IOException {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace period must be ≥ 0, was " + grace);
    }
    Instant now = clock.instant();
    Instant cutoff = now.minus(grace);
    // a run in flight keeps its files at any grace: at 0, the files a run wrote a moment ago and
    // registers at its end were deleted, and the version it then registered could not be served
    Instant inFlightSince = Collections.min(List.of(cutoff, now.minus(Retention.RUN_IN_FLIGHT)));
    Path root = store.root().toRealPath();
    List<RunState> runStates = runStates();
    List<StoredFile> files = files(root);
    Plan plan =
        Retention.plan(
            registry.versions(modelName),
            runStates,
            files,
            keepArchived,
            cutoff,
            inFlightSince,
            this::resolve);
    if (dryRun) {
      return new Result(plan, List.of(), List.of());
    }
    List<StoredFile> deleted = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    // from the registry's last read to the last delete: a promotion (which holds the lock around
    // its check that the files are there and its write) is either seen by that read or waits
    try (StoreLock held = StoreLock.take(root)) {
      // what a version kept now names is kept, whatever the registry said when the plan was made
      Set<Path> stillDelete =
          Retention.plan(
                  registry.versions(modelName),
                  runStates,
                  plan.delete(),
                  keepArchived,
                  cutoff,
                  inFlightSince,
                  this::resolve)
              .delete()
              .stream()
              .map(StoredFile::path)
              .collect(Collectors.toSet());
      for (StoredFile f : plan.delete()) {
        if (!stillDelete.contains(f.path())) {
          continue;
        }
        try {
          if (delete(root, f.path())) {
            deleted.add(f);
          }
        } catch (IOException e) {
          failed.add(f.path() + ": " + e);
          log.warn("prune: cannot delete {}: {}", f.path(), e.toString());
        }
      }
    }
    log.info(
        "prune: deleted {} files ({} bytes) of {}, kept {}",
        deleted.size(),
        deleted.stream().mapToLong(StoredFile::bytes).sum(),
        root,
        plan.keep().size());
    return new Result(plan, deleted, failed);
  }

  /** Deletes {@code p} if it is still a regular file (not a link) under {@code root}. */
  private static boolean delete(Path root, Path p) throws IOException {
    if (!p.normalize().startsWith(root)
        || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
        || !p.toRealPath().startsWith(root)) {
      throw new IOException("not a file under the store's root " + root + ": " + p);
    }
    return Files.deleteIfExists(p);
  }

  private List<RunState> runStates() {
    List<RunState> out = new ArrayList<>();
    for (RunRecord r : runs.list()) {
      Set<String> versions = new HashSet<>();
      r.models.forEach(
          m -> {
            if (m.version != null) {
              versions.add(m.version);
            }
          });
      out.add(new RunState(r.id, r.status, runs.savedAt(r.id).orElse(Instant.EPOCH), versions));
    }
    return out;
  }

  /** Every regular file under the real root, links not followed. */
  private static List<StoredFile> files(Path root) throws IOException {
    List<StoredFile> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.toList()) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
          continue; // gone meanwhile (a run's temporary file moved into place)
        }
        if (!a.isRegularFile() || p.equals(root.resolve(StoreLock.FILE))) {
          continue; // the lock file is the store's, not an artifact
        }
        Path rel = root.relativize(p);
        String runId =
            rel.getNameCount() == 2
                    && Files.isRegularFile(
                        p.resolveSibling(FileRunStore.RUN_FILE), LinkOption.NOFOLLOW_LINKS)
                ? rel.getName(0).toString()
                : null;
        out.add(new StoredFile(p, runId, a.lastModifiedTime().toInstant(), a.size()));
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return out;
  }

  /**
   * A version's artifact as the files are spelled (a real path), null when it names none. A URI the
   * trainer spelled with its own mount of the store ({@code /artifacts/<run>/<file>}), not there as
   * spelled here, is the same run directory and file name under this store's root: read as naming
   * nothing, a kept version's files would have been deleted by a prune run with the store mounted
   * elsewhere.
   */
  private Path resolve(URI uri) {
    if (!"file".equals(uri.getScheme())) {
      return null;
    }
    Path p;
    try {
      p = Path.of(uri);
    } catch (IllegalArgumentException e) {
      return null;
    }
    try {
      return p.toRealPath();
    } catch (IOException notHereAsSpelled) {
      Path here = PrunedArtifacts.inStore(store.root(), p);
      try {
        return here == null ? null : here.toRealPath();
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }
  }
}
