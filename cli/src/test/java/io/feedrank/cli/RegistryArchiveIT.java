package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./feedrank registry archive} on the command line, against the real registry topic: it ends
 * an A/B test by archiving the staging version, production staying; production itself is refused
 * with exit code 1, as promote's and rollback's refusals are, and nothing is written.
 */
@LocalStackTest
class RegistryArchiveIT {
  static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

  @TempDir Path store;

  @Test
  void archivesTheStagingVersionAndRefusesTheProductionOne(LocalStack stack) {
    String model = "archive-cli-it-" + UUID.randomUUID();
    try (KafkaModelRegistry registry = RegistryPruneIT.registryOn(stack)) {
      registry.publish(
          List.of(
              version(model, "p1", ModelStage.PRODUCTION, null, 10),
              version(model, "s1", ModelStage.STAGING, "p1", 20)));
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.versions(model).size() == 2);

      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      assertThat(run(stack, model, out, err, "s1")).as(err.toString()).isZero();
      assertThat(out.toString())
          .containsPattern(
              "s1 +ARCHIVED +mlp .*ARCHIVED: archived by operator "
                  + System.getProperty("user.name")
                  + " \\(was STAGING\\)");
      Map<String, ModelStage> archived =
          Map.of("p1", ModelStage.PRODUCTION, "s1", ModelStage.ARCHIVED);
      // visible once the commit's markers are written, just after the command returns
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(stages(registry, model)).isEqualTo(archived));

      out = new StringWriter();
      err = new StringWriter();
      assertThat(run(stack, model, out, err, "p1")).isEqualTo(1);
      assertThat(err.toString())
          .startsWith("feedrank registry: version p1 is in production and is not archived");
      assertThat(stages(registry, model)).isEqualTo(archived);
    }
  }

  /**
   * An operator's archive, promotion and rollback record who made them (the OS user) and why
   * ({@code --reason}) in the decision reasons they write; {@code registry show} prints a version's
   * whole record.
   */
  @Test
  void decisionsRecordTheOperatorAndTheReasonAndShowPrintsTheRecord(LocalStack stack) {
    String model = "reason-cli-it-" + UUID.randomUUID();
    String by = "by operator " + System.getProperty("user.name");
    try (KafkaModelRegistry registry = RegistryPruneIT.registryOn(stack)) {
      ModelVersion staged =
          ModelVersion.newBuilder(version(model, "s1", ModelStage.STAGING, "p1", 20))
              .setCommandId("drift-episode-7")
              .setTrainingFrom(T0.minusSeconds(7 * 86_400))
              .setTrainingTo(T0)
              .setHoldoutFrom(T0.minusSeconds(86_400))
              .setArtifacts(Map.of("user_tower_sha256", "ab12"))
              .setDecision("STAGED")
              .setDecisionReason("auc +0.004 > 0 but < 0.01: A/B share")
              .setComparison(
                  new io.feedrank.events.ModelComparison("p1", "auc", 0.71, 0.706, 0.004, 1200L))
              .build();
      registry.publish(
          List.of(
              version(model, "p0", ModelStage.ARCHIVED, null, 5),
              version(model, "p1", ModelStage.PRODUCTION, "p0", 10),
              staged));
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.versions(model).size() == 3);

      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      assertThat(cli(stack, model, out, err, "show", "s1")).as(err.toString()).isZero();
      assertThat(out.toString())
          .containsPattern("training_from +" + T0.minusSeconds(7 * 86_400))
          .containsPattern("training_to +" + T0)
          .containsPattern("holdout_from +" + T0.minusSeconds(86_400))
          .containsPattern("command_id +drift-episode-7")
          .containsPattern("artifact_sha256 +00")
          .contains("user_tower_sha256")
          .contains("\"against_version\": \"p1\"")
          .containsPattern("decision_reason +auc \\+0.004 > 0 but < 0.01: A/B share");

      out = new StringWriter();
      err = new StringWriter();
      assertThat(cli(stack, model, out, err, "archive", "s1", "--reason", "A/B share lost"))
          .as(err.toString())
          .isZero();
      out = new StringWriter();
      err = new StringWriter();
      assertThat(cli(stack, model, out, err, "rollback", "--reason", "CTR fell"))
          .as(err.toString())
          .isZero();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(reasons(registry, model))
                      .containsEntry("s1", "archived " + by + ": A/B share lost (was STAGING)")
                      .containsEntry("p0", "restored by rollback of p1 " + by + ": CTR fell")
                      .containsEntry("p1", "rolled back to p0 " + by + ": CTR fell"));

      out = new StringWriter();
      err = new StringWriter();
      assertThat(cli(stack, model, out, err, "promote", "p1", "--reason", "fixed upstream"))
          .as(err.toString())
          .isZero();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(reasons(registry, model))
                      .containsEntry("p1", "promoted " + by + ": fixed upstream (was ARCHIVED)"));
    }
  }

  private static Map<String, String> reasons(KafkaModelRegistry registry, String model) {
    Map<String, String> reasons = new HashMap<>();
    registry.versions(model).forEach(v -> reasons.put(v.getVersion(), v.getDecisionReason()));
    return reasons;
  }

  /**
   * {@code ./feedrank registry ARGS} against the stack, as the command line's entry point runs it.
   */
  private int cli(
      LocalStack stack, String model, StringWriter out, StringWriter err, String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("registry"));
    all.addAll(List.of(args));
    all.addAll(
        List.of(
            "--bootstrap-servers",
            stack.bootstrapServers(),
            "--registry-url",
            stack.registryUrl(),
            "--model-name",
            model,
            "--artifact-store",
            store.toString()));
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(all.toArray(String[]::new));
  }

  /** {@code ./feedrank registry archive VERSION} as the command line's entry point runs it. */
  private int run(LocalStack stack, String model, StringWriter out, StringWriter err, String v) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(
        "registry",
        "archive",
        v,
        "--bootstrap-servers",
        stack.bootstrapServers(),
        "--registry-url",
        stack.registryUrl(),
        "--model-name",
        model,
        "--artifact-store",
        store.toString());
  }

  private static Map<String, ModelStage> stages(KafkaModelRegistry registry, String model) {
    Map<String, ModelStage> stages = new HashMap<>();
    registry.versions(model).forEach(v -> stages.put(v.getVersion(), v.getStage()));
    return stages;
  }

  private static ModelVersion version(
      String model, String v, ModelStage stage, String parent, int updatedSeconds) {
    Instant at = T0.plusSeconds(updatedSeconds);
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri("file:/x/" + v)
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .setParentVersion(parent)
        .build();
  }
}
