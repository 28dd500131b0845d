package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.registry.ModelRegistry;
import io.feedrank.trainer.registry.RegistryCommands;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prune and an operator's promotion of an old archived version ({@code x}, beyond {@code
 * --keep-archived 0}: its file is to go) on one store, each started by the registry at the point
 * where the other is most exposed: the promotion while the prune reads the registry a last time
 * before deleting, the prune while the promotion writes. Whatever the order, the promotion must not
 * end in production with its file gone (the rankers would refuse it, the drift job and the next run
 * would use what is not there): the second one waits for the first and sees what it did.
 */
class PruneAndPromoteTest {
  static final Instant NOW = Instant.parse("2026-12-07T06:00:00Z");
  static final Instant OLD = NOW.minus(Duration.ofDays(3));
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @TempDir Path root;
  FileArtifactStore store;
  FileRunStore runs;
  final Registry registry = new Registry();

  /**
   * The registry in memory; {@code onRead} runs at its {@code hookedRead}-th read, after the state
   * was taken (what that read returns), and {@code onPublish} before the next write is applied.
   */
  static final class Registry implements ModelRegistry {
    final Map<String, ModelVersion> state = new HashMap<>();
    int reads;
    int hookedRead;
    Runnable onRead;
    Runnable onPublish;

    @Override
    public List<ModelVersion> versions(String modelName) {
      List<ModelVersion> now;
      Runnable hook;
      synchronized (this) {
        now = List.copyOf(state.values());
        hook = ++reads == hookedRead ? onRead : null;
      }
      if (hook != null) {
        hook.run();
      }
      return now;
    }

    @Override
    public void publish(List<ModelVersion> updates) {
      Runnable hook;
      synchronized (this) {
        hook = onPublish;
        onPublish = null;
      }
      if (hook != null) {
        hook.run();
      }
      synchronized (this) {
        updates.forEach(v -> state.put(v.getVersion(), v));
      }
    }

    synchronized ModelStage stage(String version) {
      return state.get(version).getStage();
    }
  }

  @BeforeEach
  void productionAndAnOldArchivedVersion() throws IOException {
    store = new FileArtifactStore(root);
    runs = new FileRunStore(store);
    registry.publish(
        List.of(version("p", ModelStage.PRODUCTION, 2), version("x", ModelStage.ARCHIVED, 1)));
  }

  @Test
  void aPromotionWhileThePruneReadsTheRegistryALastTimeWaitsAndIsRefusedOnceTheFileIsGone()
      throws Exception {
    CompletableFuture<List<ModelVersion>> promoted = new CompletableFuture<>();
    Thread promoter = thread("promoter", promoted, () -> commands().promote("x", "by operator"));
    // the prune's first read makes the plan (x's file goes), its second is the last before deleting
    registry.hookedRead = 2;
    registry.onRead =
        () -> {
          promoter.start();
          await()
              .atMost(Duration.ofMinutes(2))
              .until(() -> promoted.isDone() || waitsForTheStoreLock(promoter));
        };

    ArtifactPruner.Result pruned = pruner().prune(0, Duration.ofHours(1), false);
    promoter.join(TimeUnit.MINUTES.toMillis(2));

    assertThat(promoter.isAlive()).isFalse();
    assertThat(productionsFilesAreThere()).as("production's model file is in the store").isTrue();
    // the prune did not wait for it: x's file went, so the promotion, once it had the lock,
    // found it gone and wrote nothing
    assertThat(pruned.deleted())
        .extracting(f -> f.path().getFileName().toString())
        .containsExactly("mlp.onnx");
    assertThatThrownBy(promoted::get)
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("version x cannot be put in production");
    assertThat(registry.stage("x")).isEqualTo(ModelStage.ARCHIVED);
    assertThat(registry.stage("p")).isEqualTo(ModelStage.PRODUCTION);
  }

  @Test
  void aPruneWhileAPromotionIsWrittenWaitsAndKeepsThePromotedVersionsFile() throws Exception {
    CompletableFuture<ArtifactPruner.Result> pruned = new CompletableFuture<>();
    Thread pruner = thread("pruner", pruned, () -> pruner().prune(0, Duration.ofHours(1), false));
    // the promotion has checked x's file and writes x as production: the prune starts then
    registry.onPublish =
        () -> {
          pruner.start();
          await()
              .atMost(Duration.ofMinutes(2))
              .until(() -> pruned.isDone() || waitsForTheStoreLock(pruner));
        };

    List<ModelVersion> written = commands().promote("x", "by operator");
    pruner.join(TimeUnit.MINUTES.toMillis(2));

    assertThat(pruner.isAlive()).isFalse();
    assertThat(written.get(0).getVersion()).isEqualTo("x");
    assertThat(productionsFilesAreThere()).as("production's model file is in the store").isTrue();
    // the prune's plan had x's file (x was archived when it started); its last read saw x promoted
    assertThat(pruned.get().plan().delete()).hasSize(1);
    assertThat(pruned.get().deleted()).isEmpty();
    assertThat(root.resolve("run-x").resolve("mlp.onnx")).exists();
  }

  /** Whether every version in production has its model file in the store. */
  private boolean productionsFilesAreThere() {
    List<ModelVersion> production =
        registry.versions("feed-ranker").stream()
            .filter(v -> v.getStage() == ModelStage.PRODUCTION)
            .toList();
    assertThat(production).hasSize(1);
    return production.stream()
        .allMatch(v -> Files.isRegularFile(root.resolve(v.getRunId()).resolve("mlp.onnx")));
  }

  /**
   * Whether {@code t} is parked waiting in {@code StoreLock.take} (a lock another thread holds).
   */
  private static boolean waitsForTheStoreLock(Thread t) {
    return t.getState() == Thread.State.WAITING
        && Arrays.stream(t.getStackTrace())
            .anyMatch(f -> f.getClassName().equals("io.feedrank.trainer.prune.StoreLock"));
  }

  private static <T> Thread thread(String name, CompletableFuture<T> result, Callable<T> work) {
    return new Thread(
        () -> {
          try {
            result.complete(work.call());
          } catch (Throwable e) {
            result.completeExceptionally(e);
          }
        },
        name);
  }

  private RegistryCommands commands() {
    return new RegistryCommands(registry, "feed-ranker", CLOCK, root);
  }

  private ArtifactPruner pruner() {
    return new ArtifactPruner(store, runs, registry, "feed-ranker", CLOCK);
  }

  /** A version of its own run, whose record and model file were last written three days ago. */
  private ModelVersion version(String v, ModelStage stage, int hour) throws IOException {
    String runId = "run-" + v;
    RunRecord r = new RunRecord();
    r.id = runId;
    r.status = RunRecord.SUCCEEDED;
    runs.save(r);
    String uri = store.put(runId, "mlp.onnx", new byte[] {1, 2, 3}).toString();
    for (String f : List.of(FileRunStore.RUN_FILE, "mlp.onnx")) {
      Files.setLastModifiedTime(root.resolve(runId).resolve(f), FileTime.from(OLD));
    }
    Instant at = OLD.plus(Duration.ofHours(hour));
    return ModelVersion.newBuilder()
        .setModelName("feed-ranker")
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setRunId(runId)
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri(uri)
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .build();
  }
}
