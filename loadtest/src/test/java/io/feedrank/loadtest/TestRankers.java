package io.feedrank.loadtest;

import io.feedrank.avro.Topics;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.localstack.LocalStack;
import io.feedrank.models.Checksums;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.ranker.RegistryRecords;
import io.feedrank.ranker.TestModelsAccess;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Rankers on the local stack for the load tests' ITs: each with a model name and artifact store of
 * its own, serving a real model (an MLP of ranker-service's test models, scored with ONNX Runtime)
 * once one is published, as the trainer publishes it.
 */
final class TestRankers {
  private TestRankers() {}

  /** A ranker's configuration on {@code stack}, its artifacts under {@code dir}. */
  static Map<String, String> config(LocalStack stack, Path dir) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("redis.uri", stack.redisUri());
    c.put("port", "0");
    c.put("model.name", "loadtest-" + UUID.randomUUID().toString().substring(0, 8));
    c.put("artifact.store", dir.resolve("artifacts").toString());
    // ready without its warm-up's 20,000 requests: these tests bound no latency
    c.put("warmup.requests", "0");
    return c;
  }

  /** Stores an MLP's ONNX artifact and publishes it as the production version of the model. */
  static void publishProductionModel(LocalStack stack, Map<String, String> config)
      throws Exception {
    String name = config.get("model.name");
    byte[] onnx = TestModelsAccess.mlp(7);
    URI uri =
        new FileArtifactStore(Path.of(config.get("artifact.store")))
            .put(name + "-v1", "model.onnx", onnx);
    Instant now = Instant.now();
    ModelVersion v1 =
        ModelVersion.newBuilder()
            .setModelName(name)
            .setVersion("v1")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(now)
            .setUpdatedAt(now)
            .setArtifactUri(uri.toString())
            .setArtifactSha256(Checksums.sha256(onnx))
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .build();
    RegistryRecords.publish(stack, Topics.MODEL_REGISTRY, List.of(v1));
  }

  /**
   * Runs {@code simulation} as {@code ./feedrank loadtest} does (the settings are the system
   * properties), its results under {@code results}; what its entry point says to {@code out} and
   * {@code err} (Gatling's own output goes to the console). Returns the exit code.
   */
  static int loadtest(Class<?> simulation, Path results, PrintStream out, PrintStream err)
      throws Exception {
    return Main.run(
        out, err, "--simulation", simulation.getName(), "--results-folder", results.toString());
  }
}
