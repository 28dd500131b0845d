package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
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
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            stack.clientConfig(),
            serde.serializer(),
            serde.deserializer(),
            Topics.MODEL_REGISTRY)) {
      registry.publish(
          List.of(
              version(model, "p1", ModelStage.PRODUCTION, null, 10),
              version(model, "s1", ModelStage.STAGING, "p1", 20)));
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.versions(model).size() == 2);

      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      assertThat(run(stack, model, out, err, "s1")).as(err.toString()).isZero();
      assertThat(out.toString())
          .containsPattern("s1 +ARCHIVED +mlp .*ARCHIVED: archived by operator \\(was STAGING\\)");
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
