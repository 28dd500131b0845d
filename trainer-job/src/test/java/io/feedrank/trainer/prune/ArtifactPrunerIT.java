package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import io.feedrank.trainer.registry.RegistryCommands;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prune against the real registry topic and a store of real files: versions in every stage, a
 * failed run, a run in flight and a file outside the store reached by a link; exactly the expected
 * files go, and production can still be rolled back to a version whose artifact is there.
 */
@LocalStackTest
class ArtifactPrunerIT {
  static final Instant NOW = Instant.now();
  static final Instant OLD = NOW.minus(Duration.ofDays(3));

  @TempDir Path tmp;

  @Test
  void deletesExactlyTheFilesNoKeptVersionNeedsAndRollbackStillWorks(LocalStack stack)
      throws IOException {
    String model = "prune-it-" + UUID.randomUUID();
    Path root = Files.createDirectories(tmp.resolve("store"));
    FileArtifactStore store = new FileArtifactStore(root);
    FileRunStore runs = new FileRunStore(store);
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            stack.clientConfig(),
            serde.serializer(),
            serde.deserializer(),
            Topics.MODEL_REGISTRY)) {
      List<ModelVersion> versions = new ArrayList<>();
      // a0 oldest archived, a1 and a2 newer; p (production) replaced a0: rollback's target
      versions.add(version(store, runs, model, "a0", ModelStage.ARCHIVED, null, 10));
      versions.add(version(store, runs, model, "a1", ModelStage.ARCHIVED, null, 20));
      versions.add(version(store, runs, model, "a2", ModelStage.ARCHIVED, null, 30));
      versions.add(version(store, runs, model, "p", ModelStage.PRODUCTION, "a0", 40));
      versions.add(version(store, runs, model, "s", ModelStage.STAGING, "p", 50));
      versions.add(version(store, runs, model, "r", ModelStage.REJECTED, "p", 60));
      registry.publish(versions);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> registry.versions(model).size() == versions.size());
      // a failed run's files; a run in flight, its model written but not registered
      run(store, runs, "run-failed", RunRecord.FAILED, OLD);
      run(store, runs, "run-live", RunRecord.RUNNING, NOW);
      // a link in a run's directory to a file outside the store: neither is touched
      Path outside = Files.writeString(tmp.resolve("outside.onnx"), "not the store's");
      Files.setLastModifiedTime(outside, FileTime.from(OLD));
      Files.createSymbolicLink(root.resolve("run-failed").resolve("link.onnx"), outside);

      Set<Path> before = files(root);
      ArtifactPruner pruner =
          new ArtifactPruner(store, runs, registry, model, Clock.fixed(NOW, ZoneOffset.UTC));

      ArtifactPruner.Result dry = pruner.prune(1, Duration.ofHours(1), true);
      assertThat(files(root)).isEqualTo(before);

      ArtifactPruner.Result done = pruner.prune(1, Duration.ofHours(1), false);
      // a1: archived, not the newest one; r: rejected; the failed run's model and profile.
      // a0, older than a1, is production's parent (rollback's target): kept
      Path real = root.toRealPath();
      Set<Path> expected =
          Set.of(
              real.resolve("run-a1/mlp.onnx"),
              real.resolve("run-a1/reference_profile.avro"),
              real.resolve("run-r/mlp.onnx"),
              real.resolve("run-r/reference_profile.avro"),
              real.resolve("run-failed/mlp.onnx"),
              real.resolve("run-failed/reference_profile.avro"));
      assertThat(paths(dry.plan().delete())).isEqualTo(expected);
      assertThat(paths(done.deleted())).isEqualTo(expected);
      assertThat(done.failed()).isEmpty();
      Set<Path> left = new HashSet<>(before);
      left.removeAll(expected);
      left.add(real.resolve(StoreLock.FILE)); // taken while deleting, and left for the next one
      assertThat(files(root)).isEqualTo(left);
      assertThat(Files.readString(outside)).isEqualTo("not the store's");
      for (String run : List.of("a0", "a2", "p", "s")) {
        assertThat(root.resolve("run-" + run).resolve("mlp.onnx")).exists();
      }
      assertThat(root.resolve("run-live/mlp.onnx")).exists();
      assertThat(root.resolve("run-failed/run.json")).exists();

      // rollback goes back to a0, whose artifact is there and reads as written
      List<ModelVersion> written =
          new RegistryCommands(registry, model, Clock.fixed(NOW, ZoneOffset.UTC)).rollback();
      assertThat(written.get(0).getVersion()).isEqualTo("a0");
      assertThat(written.get(0).getStage()).isEqualTo(ModelStage.PRODUCTION);
      assertThat(
              new String(
                  store.get(URI.create(written.get(0).getArtifactUri())), StandardCharsets.UTF_8))
          .isEqualTo("model of a0");
    }
  }

  private static ModelVersion version(
      FileArtifactStore store,
      FileRunStore runs,
      String model,
      String v,
      ModelStage stage,
      String parent,
      int updatedSeconds)
      throws IOException {
    String runId = "run-" + v;
    URI uri = run(store, runs, runId, RunRecord.SUCCEEDED, OLD);
    Instant at = OLD.plusSeconds(updatedSeconds);
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setRunId(runId)
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri(uri.toString())
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .setParentVersion(parent)
        .build();
  }

  /** A run's record, model and profile, all last modified at {@code at}; the model's URI. */
  private static URI run(
      FileArtifactStore store, FileRunStore runs, String runId, String status, Instant at)
      throws IOException {
    RunRecord r = new RunRecord();
    r.id = runId;
    r.status = status;
    runs.save(r);
    String v = runId.substring("run-".length());
    URI uri = store.put(runId, "mlp.onnx", ("model of " + v).getBytes(StandardCharsets.UTF_8));
    store.put(runId, "reference_profile.avro", new byte[] {1, 2, 3});
    try (Stream<Path> files = Files.list(store.root().resolve(runId))) {
      for (Path f : files.toList()) {
        Files.setLastModifiedTime(f, FileTime.from(at));
      }
    }
    return uri;
  }

  private static Set<Path> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root.toRealPath())) {
      return Set.copyOf(s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList());
    }
  }

  private static Set<Path> paths(List<Retention.StoredFile> files) {
    return Set.copyOf(files.stream().map(Retention.StoredFile::path).toList());
  }
}
