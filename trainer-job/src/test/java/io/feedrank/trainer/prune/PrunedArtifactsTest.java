package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.registry.ModelRegistry;
import io.feedrank.trainer.registry.RegistryCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code registry promote} and {@code rollback} to a version whose artifacts a prune deleted: no
 * ranker could load it, so nothing is written; where the store does not hold the version's run (a
 * command run away from the volume), the promotion goes ahead.
 */
class PrunedArtifactsTest {
  static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

  @TempDir Path root;
  final Registry registry = new Registry();

  /** The registry in memory: the newest record per version is its state. */
  static final class Registry implements ModelRegistry {
    final Map<String, ModelVersion> state = new HashMap<>();
    final List<ModelVersion> published = new ArrayList<>();

    @Override
    public List<ModelVersion> versions(String modelName) {
      return List.copyOf(state.values());
    }

    @Override
    public void publish(List<ModelVersion> updates) {
      published.addAll(updates);
      updates.forEach(v -> state.put(v.getVersion(), v));
    }
  }

  ModelVersion version(String run, ModelStage stage, String parent, Path spelledRoot, int day) {
    Instant at = T0.plusSeconds(86_400L * day);
    return ModelVersion.newBuilder()
        .setModelName("feed-ranker")
        .setVersion(run + "-two_tower")
        .setStage(stage)
        .setArchitecture("two_tower")
        .setRunId(run)
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri(spelledRoot.resolve(run).resolve("two_tower.onnx").toUri().toString())
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .setParentVersion(parent)
        .setArtifacts(
            Map.of(
                "user_tower",
                spelledRoot.resolve(run).resolve("two_tower.user_tower.onnx").toUri().toString(),
                "user_tower.sha256",
                "ab",
                "item_tower",
                spelledRoot.resolve(run).resolve("two_tower.item_tower.onnx").toUri().toString(),
                "item_tower.sha256",
                "cd"))
        .build();
  }

  /** A run's directory as the trainer leaves it: its record and its three model files. */
  void writeRun(String run) throws IOException {
    Path dir = Files.createDirectories(root.resolve(run));
    Files.writeString(dir.resolve("run.json"), "{}");
    for (String f :
        List.of("two_tower.onnx", "two_tower.user_tower.onnx", "two_tower.item_tower.onnx")) {
      Files.write(dir.resolve(f), new byte[] {1, 2, 3});
    }
  }

  RegistryCommands commands() {
    return new RegistryCommands(
        registry, "feed-ranker", Clock.fixed(T0.plusSeconds(86_400L * 10), ZoneOffset.UTC), root);
  }

  @BeforeEach
  void twoVersions() throws IOException {
    writeRun("r1");
    writeRun("r2");
    registry.publish(
        List.of(
            version("r1", ModelStage.ARCHIVED, null, root, 1),
            version("r2", ModelStage.PRODUCTION, "r1-two_tower", root, 2)));
    registry.published.clear();
  }

  @Test
  void aVersionWhoseArtifactsArePrunedIsNotPromotedNorRolledBackTo() throws IOException {
    // as a prune leaves it: the run's record, not its models (one tower is enough)
    Files.delete(root.resolve("r1").resolve("two_tower.item_tower.onnx"));

    assertThatThrownBy(() -> commands().promote("r1-two_tower", "by operator"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version r1-two_tower cannot be put in production")
        .hasMessageContaining("no longer in the store")
        .hasMessageContaining("r1/two_tower.item_tower.onnx")
        .hasMessageNotContaining("user_tower");
    assertThatThrownBy(() -> commands().rollback())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version r1-two_tower cannot be put in production");
    assertThat(registry.published).isEmpty();
    assertThat(registry.state.get("r2-two_tower").getStage()).isEqualTo(ModelStage.PRODUCTION);
  }

  @Test
  void aVersionWithItsArtifactsIsPromotedWhateverPathItsUrisSpellTheStoreWith() {
    // the trainer's mount (/artifacts) is not this process's (the temp dir): file names are
    // looked up in the run's directory of this store
    registry.publish(List.of(version("r1", ModelStage.ARCHIVED, null, Path.of("/artifacts"), 1)));
    registry.published.clear();

    List<ModelVersion> written = commands().promote("r1-two_tower", "by operator");

    assertThat(written.get(0).getVersion()).isEqualTo("r1-two_tower");
    assertThat(registry.state.get("r1-two_tower").getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(registry.state.get("r2-two_tower").getStage()).isEqualTo(ModelStage.ARCHIVED);
  }

  @Test
  void aStoreWithoutTheVersionsRunCannotTellAndThePromotionGoesAhead() throws IOException {
    // a command run away from the volume: its store holds no r1 at all
    Files.delete(root.resolve("r1").resolve("run.json"));
    Files.delete(root.resolve("r1").resolve("two_tower.onnx"));

    assertThat(new PrunedArtifacts(root).problem(registry.state.get("r1-two_tower"))).isEmpty();
    commands().rollback();
    assertThat(registry.state.get("r1-two_tower").getStage()).isEqualTo(ModelStage.PRODUCTION);
  }
}
