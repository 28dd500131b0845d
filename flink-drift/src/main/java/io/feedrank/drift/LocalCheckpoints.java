package io.feedrank.drift;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift job's state across runs of a local MiniCluster ({@code ./feedrank drift}): checkpoints
 * under {@code dir/checkpoints/<job id>/chk-N}, retained when the job is cancelled, and the
 * stop-with-savepoint of a clean stop under {@code dir/savepoints}. A start restores the newest
 * completed snapshot of either kind, so the windows, streaks, cooldown and routine commands go on
 * where they were, and the sources from the snapshot's offsets (not their consumer groups'). The
 * restored snapshot is claimed ({@link RecoveryClaimMode#CLAIM}): the new job deletes it once one
 * of its own has replaced it, so the directory holds one or two snapshots, not one per run.
 *
 * <p>Without a directory the job's state lived in the JobManager's memory and every start began
 * with none: a restart mid-episode issued a second retrain command inside the cooldown, and
 * reported the window open at the stop with only what arrived after it.
 */
public final class LocalCheckpoints {
  private static final Logger log = LoggerFactory.getLogger(LocalCheckpoints.class);

  private LocalCheckpoints() {}

  /**
   * Points {@code flink} at {@code dir} for checkpoints and savepoints, retains checkpoints on
   * cancellation and, when {@code dir} holds a completed snapshot, restores the newest.
   *
   * @return the snapshot restored, if any
   */
  public static Optional<Path> configure(Configuration flink, Path dir) {
    Path checkpoints = dir.resolve("checkpoints");
    Path savepoints = dir.resolve("savepoints");
    try {
      Files.createDirectories(checkpoints);
      Files.createDirectories(savepoints);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the drift state directory " + dir, e);
    }
    Optional<Path> newest = newest(dir);
    removeEmptyJobDirs(checkpoints, newest);
    flink.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    flink.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints.toUri().toString());
    flink.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    newest.ifPresent(
        s -> {
          flink.set(StateRecoveryOptions.SAVEPOINT_PATH, s.toUri().toString());
          flink.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
        });
    return newest;
  }

  /**
   * The newest completed snapshot under {@code dir}: a {@code chk-N} or {@code savepoint-…}
   * directory with its {@code _metadata} (written last, so a snapshot cut short by a kill has
   * none), newest by that file's time.
   */
  public static Optional<Path> newest(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> s = Files.walk(dir, 4)) {
      return s.filter(p -> p.getFileName().toString().equals("_metadata"))
          .filter(
              p -> {
                String parent = p.getParent().getFileName().toString();
                return parent.startsWith("chk-") || parent.startsWith("savepoint-");
              })
          .max(Comparator.comparing(LocalCheckpoints::modified))
          .map(Path::getParent);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the drift state directory " + dir, e);
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /**
   * Job directories of earlier runs whose checkpoints a later run claimed and deleted: their empty
   * {@code shared} and {@code taskowned} directories would pile up, one set per run.
   */
  private static void removeEmptyJobDirs(Path checkpoints, Optional<Path> keep) {
    try (Stream<Path> jobs = Files.list(checkpoints)) {
      for (Path job : jobs.filter(Files::isDirectory).toList()) {
        if (keep.isPresent() && keep.get().startsWith(job)) {
          continue;
        }
        List<Path> files;
        try (Stream<Path> all = Files.walk(job)) {
          files = all.filter(Files::isRegularFile).toList();
        }
        if (files.isEmpty()) {
          deleteTree(job);
        }
      }
    } catch (IOException e) {
      log.warn("drift: cannot tidy {}: {}", checkpoints, e.toString());
    }
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> all = Files.walk(p)) {
      for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
