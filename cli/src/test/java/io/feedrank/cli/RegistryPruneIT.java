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
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank registry prune} on the command line, against the real registry topic. */
@LocalStackTest
class RegistryPruneIT {
  /** A client of the stack's model-registry topic, as the cli's registry commands open it. */
  static KafkaModelRegistry registryOn(LocalStack stack) {
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    return new KafkaModelRegistry(
        stack.clientConfig(), serde.serializer(), serde.deserializer(), Topics.MODEL_REGISTRY);
  }

  static final Instant OLD = Instant.now().minus(Duration.ofDays(3));

  @TempDir Path store;

  @Test
  void aDryRunListsWhatAPruneThenDeletes(LocalStack stack) throws IOException {
    String model = "prune-cli-it-" + UUID.randomUUID();
    FileArtifactStore artifacts = new FileArtifactStore(store);
    FileRunStore runs = new FileRunStore(artifacts);
    try (KafkaModelRegistry registry = registryOn(stack)) {
      List<ModelVersion> versions =
          List.of(
              version(artifacts, runs, model, "a0", ModelStage.ARCHIVED, null, 10),
              version(artifacts, runs, model, "a1", ModelStage.ARCHIVED, null, 20),
              version(artifacts, runs, model, "p", ModelStage.PRODUCTION, "a0", 30),
              version(artifacts, runs, model, "r", ModelStage.REJECTED, "p", 40));
      registry.publish(versions);
      await().atMost(Duration.ofSeconds(10)).until(() -> registry.versions(model).size() == 4);
    }
    String[] common = {
      "prune",
      "--bootstrap-servers",
      stack.bootstrapServers(),
      "--registry-url",
      stack.registryUrl(),
      "--model-name",
      model,
      "--artifact-store",
      store.toString(),
      "--keep-archived",
      "0"
    };

    StringWriter out = new StringWriter();
    assertThat(run(out, common, "--dry-run")).isZero();
    assertThat(out.toString())
        .contains("would delete " + store.toRealPath().resolve("run-a1/mlp.onnx"))
        .contains("would delete " + store.toRealPath().resolve("run-r/mlp.onnx"))
        .contains("would delete 2 files")
        .doesNotContain("run-a0/mlp.onnx")
        .doesNotContain("run-p/mlp.onnx");
    assertThat(store.resolve("run-a1/mlp.onnx")).exists();
    assertThat(store.resolve("run-r/mlp.onnx")).exists();

    out = new StringWriter();
    assertThat(run(out, common)).isZero();
    assertThat(out.toString()).contains("deleted 2 files");
    assertThat(store.resolve("run-a1/mlp.onnx")).doesNotExist();
    assertThat(store.resolve("run-r/mlp.onnx")).doesNotExist();
    for (String kept : List.of("run-a0/mlp.onnx", "run-p/mlp.onnx", "run-r/run.json")) {
      assertThat(store.resolve(kept)).exists();
    }
  }

  private static int run(StringWriter out, String[] args, String... more) {
    CommandLine cli = new CommandLine(new RegistryCommand());
    cli.setOut(new PrintWriter(out));
    String[] all = Stream.concat(Stream.of(args), Stream.of(more)).toArray(String[]::new);
    return cli.execute(all);
  }

  private static ModelVersion version(
      FileArtifactStore artifacts,
      FileRunStore runs,
      String model,
      String v,
      ModelStage stage,
      String parent,
      int updatedSeconds)
      throws IOException {
    String runId = "run-" + v;
    RunRecord r = new RunRecord();
    r.id = runId;
    r.status = RunRecord.SUCCEEDED;
    runs.save(r);
    String uri = artifacts.put(runId, "mlp.onnx", new byte[] {1, 2, 3}).toString();
    try (Stream<Path> files = Files.list(artifacts.root().resolve(runId))) {
      for (Path f : files.toList()) {
        Files.setLastModifiedTime(f, FileTime.from(OLD));
      }
    }
    Instant at = OLD.plusSeconds(updatedSeconds);
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setRunId(runId)
        .setCreatedAt(at)
        .setUpdatedAt(at)
        .setArtifactUri(uri)
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .setParentVersion(parent)
        .build();
  }
}
