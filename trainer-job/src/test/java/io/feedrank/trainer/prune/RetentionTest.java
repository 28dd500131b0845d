package io.feedrank.trainer.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.trainer.prune.Retention.Plan;
import io.feedrank.trainer.prune.Retention.RunState;
import io.feedrank.trainer.prune.Retention.StoredFile;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The keep/delete decision of a prune over a hand-built registry, run records and files. */
class RetentionTest {
  static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");
  static final Instant CUTOFF = NOW.minus(Duration.ofHours(24));
  static final Instant OLD = CUTOFF.minus(Duration.ofDays(3));
  static final Path ROOT = Path.of("/store");

  static ModelVersion version(
      String run, String arch, ModelStage stage, String parent, Instant updated) {
    ModelVersion.Builder b =
        ModelVersion.newBuilder()
            .setModelName("feed-ranker")
            .setVersion(run + "-" + arch)
            .setStage(stage)
            .setArchitecture(arch)
            .setRunId(run)
            .setCreatedAt(updated)
            .setUpdatedAt(updated)
            .setArtifactUri(ROOT.resolve(run).resolve(arch + ".onnx").toUri().toString())
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(1)
            .setParentVersion(parent);
    if (arch.equals("two_tower")) {
      b.setArtifacts(
          Map.of(
              "user_tower",
              ROOT.resolve(run).resolve("two_tower.user_tower.onnx").toUri().toString(),
              "user_tower.sha256",
              "ab",
              "item_tower",
              ROOT.resolve(run).resolve("two_tower.item_tower.onnx").toUri().toString(),
              "item_tower.sha256",
              "cd"));
    }
    return b.build();
  }

  static StoredFile file(String run, String name, Instant modified) {
    return new StoredFile(ROOT.resolve(run).resolve(name), run, modified, 1000);
  }

  static RunState run(String id, String status, Instant savedAt, String... versions) {
    return new RunState(id, status, savedAt, Set.of(versions));
  }

  static final List<ModelVersion> REGISTRY =
      List.of(
          // production: run rp's two-tower; rollback goes back to a3 (its parent)
          version("rp", "two_tower", ModelStage.PRODUCTION, "ra3-mlp", T0.plusSeconds(50)),
          version("rp", "mlp", ModelStage.REJECTED, "ra3-mlp", T0.plusSeconds(50)),
          version("rs", "mlp", ModelStage.STAGING, "rp-two_tower", T0.plusSeconds(60)),
          version("rc", "mlp", ModelStage.CANDIDATE, "rp-two_tower", T0.plusSeconds(70)),
          // archived, newest first by updated_at: a4, a2, a1, a3
          version("ra3", "mlp", ModelStage.ARCHIVED, null, T0),
          version("ra1", "mlp", ModelStage.ARCHIVED, null, T0.plusSeconds(10)),
          version("ra2", "mlp", ModelStage.ARCHIVED, null, T0.plusSeconds(20)),
          version("ra4", "mlp", ModelStage.ARCHIVED, null, T0.plusSeconds(40)),
          version("rx", "mlp", ModelStage.REJECTED, "rp-two_tower", T0.plusSeconds(45)));

  static final List<RunState> RUNS =
      List.of(
          run("rp", "SUCCEEDED", OLD, "rp-two_tower", "rp-mlp"),
          run("rs", "SUCCEEDED", OLD, "rs-mlp"),
          run("rc", "SUCCEEDED", OLD, "rc-mlp"),
          run("ra1", "SUCCEEDED", OLD, "ra1-mlp"),
          run("ra2", "SUCCEEDED", OLD, "ra2-mlp"),
          run("ra3", "SUCCEEDED", OLD, "ra3-mlp"),
          run("ra4", "SUCCEEDED", OLD, "ra4-mlp"),
          run("rx", "SUCCEEDED", OLD, "rx-mlp"),
          run("rfail", "FAILED", OLD),
          run("rlive", "RUNNING", NOW.minusSeconds(60)), // in flight, its first files old
          run("rcrash", "RUNNING", OLD), // cut short long ago, never completed
          run("rnew", "CANCELLED", NOW.minusSeconds(600)),
          run("rother", "SUCCEEDED", OLD, "rother-mlp")); // another model's run

  static final List<StoredFile> FILES = new ArrayList<>();

  static {
    for (RunState r : RUNS) {
      // rnew ended 10 minutes ago: its files are younger than the grace period
      Instant written = r.id().equals("rnew") ? NOW.minusSeconds(600) : OLD;
      FILES.add(file(r.id(), "run.json", written));
      FILES.add(file(r.id(), "mlp.onnx", written));
      FILES.add(file(r.id(), "reference_profile.avro", written));
    }
    FILES.add(file("rp", "two_tower.onnx", OLD));
    FILES.add(file("rp", "two_tower.user_tower.onnx", OLD));
    FILES.add(file("rp", "two_tower.item_tower.onnx", OLD));
    FILES.add(file("rx", "two_tower.onnx", OLD));
    FILES.add(file("rfail", "mlp.onnx123.part", OLD)); // a crashed put's leftover
    FILES.add(new StoredFile(ROOT.resolve("notes.txt"), null, OLD, 10)); // not a run's
  }

  static Plan plan(int keepArchived) {
    return Retention.plan(REGISTRY, RUNS, FILES, keepArchived, CUTOFF, CUTOFF, Path::of);
  }

  static Set<Path> deleted(Plan p) {
    return Set.copyOf(p.delete().stream().map(StoredFile::path).toList());
  }

  static Path p(String run, String name) {
    return ROOT.resolve(run).resolve(name);
  }

  @Test
  void keepsProductionStagingCandidatesTheRollbackTargetAndTheNewestArchived() {
    assertThat(Retention.keptVersions(REGISTRY, 2))
        .containsExactlyInAnyOrder(
            "rp-two_tower", "rs-mlp", "rc-mlp", "ra3-mlp", "ra4-mlp", "ra2-mlp");
    assertThat(Retention.keptVersions(REGISTRY, 0))
        .containsExactlyInAnyOrder("rp-two_tower", "rs-mlp", "rc-mlp", "ra3-mlp");
  }

  @Test
  void deletesExactlyTheFilesNoKeptVersionOrLiveRunNeeds() {
    Plan plan = plan(2);
    assertThat(deleted(plan))
        .containsExactlyInAnyOrder(
            p("rp", "mlp.onnx"), // rejected as not the best of its run
            p("ra1", "mlp.onnx"), // archived, third newest
            p("ra1", "reference_profile.avro"),
            p("rx", "mlp.onnx"), // rejected
            p("rx", "two_tower.onnx"),
            p("rx", "reference_profile.avro"),
            p("rfail", "mlp.onnx"), // failed run
            p("rfail", "reference_profile.avro"),
            p("rfail", "mlp.onnx123.part"),
            p("rcrash", "mlp.onnx"), // RUNNING but not saved within the grace period
            p("rcrash", "reference_profile.avro"));
    assertThat(plan.deleteBytes()).isEqualTo(11 * 1000);
    // everything else is kept, each file once
    assertThat(plan.keep()).hasSize(FILES.size() - 11);
    assertThat(plan.keep().keySet().stream().map(StoredFile::path))
        .contains(
            p("rp", "two_tower.onnx"),
            p("rp", "two_tower.user_tower.onnx"),
            p("rp", "two_tower.item_tower.onnx"),
            p("rp", "reference_profile.avro"),
            p("ra3", "mlp.onnx"),
            p("rlive", "mlp.onnx"),
            p("rnew", "mlp.onnx"),
            p("rother", "mlp.onnx"),
            p("rfail", "run.json"),
            ROOT.resolve("notes.txt"));
  }

  @Test
  void keepingNoArchivedVersionStillKeepsTheRollbackTarget() {
    Set<Path> deleted = deleted(plan(0));
    assertThat(deleted)
        .contains(p("ra2", "mlp.onnx"), p("ra4", "mlp.onnx"), p("ra1", "mlp.onnx"))
        .doesNotContain(p("ra3", "mlp.onnx"), p("ra3", "reference_profile.avro"));
    assertThat(deleted).hasSize(11 + 4);
  }

  @Test
  void aFileAKeptVersionNamesIsKeptWhateverRunItIsIn() {
    // a STAGING version (promoted by hand, say) naming an artifact of a failed run
    ModelVersion odd =
        ModelVersion.newBuilder(version("rs2", "mlp", ModelStage.STAGING, null, T0))
            .setArtifactUri(URI.create("file:/store/rfail/mlp.onnx").toString())
            .build();
    List<ModelVersion> registry = new ArrayList<>(REGISTRY);
    registry.add(odd);
    Plan plan = Retention.plan(registry, RUNS, FILES, 2, CUTOFF, CUTOFF, Path::of);
    assertThat(deleted(plan)).doesNotContain(p("rfail", "mlp.onnx")).hasSize(10);
  }

  @Test
  void aNegativeCountIsRefused() {
    assertThatThrownBy(() -> Retention.keptVersions(REGISTRY, -1))
        .hasMessageContaining("keep archived must be ≥ 0, was -1");
  }
}
