package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prune run where the store is mounted at another path than the trainer's, which spelled the
 * versions' URIs with its own ({@code /artifacts/<run>/<file>}, as the Kubernetes manifests mount
 * it): the kept versions' files are found by their run directory and name, and kept.
 */
class ArtifactPrunerTest {
  static final Instant NOW = Instant.parse("2026-12-07T06:00:00Z");
  static final Instant OLD = NOW.minus(Duration.ofDays(3));
  static final Path TRAINERS_MOUNT = Path.of("/artifacts-of-the-trainer");

  @TempDir Path root;

  @Test
  void aKeptVersionsFilesAreKeptWhenItsUrisSpellTheStoreWithAnotherMount() throws IOException {
    FileArtifactStore store = new FileArtifactStore(root);
    FileRunStore runs = new FileRunStore(store);
    PrunedArtifactsTest.Registry registry = new PrunedArtifactsTest.Registry();
    registry.publish(
        List.of(
            version("run-p", ModelStage.PRODUCTION, 2), version("run-r", ModelStage.REJECTED, 1)));
    for (String run : List.of("run-p", "run-r")) {
      RunRecord r = new RunRecord();
      r.id = run;
      r.status = RunRecord.SUCCEEDED;
      runs.save(r);
      store.put(run, "mlp.onnx", new byte[] {1, 2, 3});
      try (Stream<Path> files = Files.list(root.resolve(run))) {
        for (Path f : files.toList()) {
          Files.setLastModifiedTime(f, FileTime.from(OLD));
        }
      }
    }

    ArtifactPruner.Result done =
        new ArtifactPruner(store, runs, registry, "feed-ranker", Clock.fixed(NOW, ZoneOffset.UTC))
            .prune(0, Duration.ofHours(1), false);

    assertThat(done.deleted())
        .extracting(f -> root.toRealPath().relativize(f.path()).toString())
        .containsExactly("run-r/mlp.onnx");
    assertThat(root.resolve("run-p").resolve("mlp.onnx")).exists();
  }

  /**
   * A run in progress has written its model and not registered it yet (it does at its end, perhaps
   * as production): a prune with no grace period keeps its files. Those of a run cut short two days
   * ago, whose record still says RUNNING, go.
   */
  @Test
  void aRunningRunsFilesAreKeptAtAnyGraceButACrashedRunsNotForEver() throws IOException {
    FileArtifactStore store = new FileArtifactStore(root);
    FileRunStore runs = new FileRunStore(store);
    running(store, runs, "run-live", NOW.minusSeconds(60));
    running(store, runs, "run-crashed", NOW.minus(Duration.ofDays(2)));

    ArtifactPruner.Result done =
        new ArtifactPruner(
                store,
                runs,
                new PrunedArtifactsTest.Registry(),
                "feed-ranker",
                Clock.fixed(NOW, ZoneOffset.UTC))
            .prune(0, Duration.ZERO, false);

    assertThat(root.resolve("run-live").resolve("mlp.onnx")).exists();
    assertThat(done.deleted())
        .extracting(f -> root.toRealPath().relativize(f.path()).toString())
        .containsExactly("run-crashed/mlp.onnx");
  }

  /** A RUNNING run's record last saved at {@code saved}, and the model it wrote just before. */
  static void running(FileArtifactStore store, FileRunStore runs, String id, Instant saved)
      throws IOException {
    RunRecord r = new RunRecord();
    r.id = id;
    r.status = RunRecord.RUNNING;
    runs.save(r);
    store.put(id, "mlp.onnx", new byte[] {1, 2, 3});
    Path dir = store.root().resolve(id);
    Files.setLastModifiedTime(dir.resolve("mlp.onnx"), FileTime.from(saved.minusSeconds(30)));
    Files.setLastModifiedTime(dir.resolve(FileRunStore.RUN_FILE), FileTime.from(saved));
  }

  static ModelVersion version(String run, ModelStage stage, int day) {
    Instant at = OLD.plus(Duration.ofHours(day));
    return ModelVersion.newBuilder()
        .setModelName("feed-ranker")
        .setVersion(run + "-mlp")
        .setStage(stage)
        .setArchitecture("mlp")
        .setRunId(run)
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri(TRAINERS_MOUNT.resolve(run).resolve("mlp.onnx").toUri().toString())
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .build();
  }
}
