package io.feedrank.ranker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.avro.Topics;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.localstack.LocalStack;
import io.feedrank.models.Checksums;
import io.feedrank.models.FileArtifactStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A ranker on the local stack with its own model name and artifact directory. */
final class RankerHarness {
  static final ObjectMapper JSON = new ObjectMapper();

  final LocalStack stack;
  final String modelName = "it-" + UUID.randomUUID().toString().substring(0, 8);
  final FileArtifactStore artifacts;
  final HttpClient http = HttpClient.newHttpClient();

  RankerHarness(LocalStack stack) throws Exception {
    this.stack = stack;
    this.artifacts =
        new FileArtifactStore(Files.createTempDirectory(Path.of("target"), "artifacts-"));
  }

  Map<String, String> config() {
    Map<String, String> c = new HashMap<>();
    c.put("port", "0");
    c.put("redis.uri", stack.redisUri());
    c.put("bootstrap.servers", stack.bootstrapServers());
    c.put("schema.registry.url", stack.registryUrl());
    c.put("model.name", modelName);
    c.put("artifact.store", artifacts.root().toString());
    c.put("log.sample.rate", "1.0");
    c.put("redis.timeout.ms", "200");
    c.put("cache.user.fresh.ttl.ms", "200");
    c.put("cache.item.fresh.ttl.ms", "200");
    c.put("cache.max.serve.ms", "400");
    c.put("redis.breaker.open.ms", "500");
    c.put("rate.limit.per.second", "1000000");
    c.put("rate.limit.burst", "1000000");
    // the tests send their requests at once; the warm-up's own test turns it on
    c.put("warmup.requests", "0");
    return c;
  }

  /** Stores a full model's artifact and publishes its registry record. */
  ModelVersion publish(String version, ModelStage stage, String architecture, byte[] onnx)
      throws Exception {
    URI uri = artifacts.put(modelName + "-" + version, "model.onnx", onnx);
    ModelVersion mv = record(version, stage, architecture, uri.toString(), Checksums.sha256(onnx));
    publish(mv);
    return mv;
  }

  ModelVersion record(
      String version, ModelStage stage, String architecture, String uri, String sha256) {
    Instant now = Instant.now();
    return ModelVersion.newBuilder()
        .setModelName(modelName)
        .setVersion(version)
        .setStage(stage)
        .setArchitecture(architecture)
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setArtifactUri(uri)
        .setArtifactSha256(sha256)
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .build();
  }

  void publish(ModelVersion mv) throws Exception {
    RegistryRecords.publish(stack, Topics.MODEL_REGISTRY, List.of(mv));
  }

  HttpResponse<String> rank(int port, String body) throws Exception {
    return rank(port, body, false);
  }

  /** A rank request, marked synthetic ({@code X-Feedrank-Synthetic: true}) or not. */
  HttpResponse<String> rank(int port, String body, boolean synthetic) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/rank"))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (synthetic) {
      b.header("X-Feedrank-Synthetic", "true");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static String body(long user, long[] items, Instant at, String device, String requestId) {
    StringBuilder ids = new StringBuilder();
    for (long i : items) {
      ids.append(ids.length() == 0 ? "" : ",").append(i);
    }
    return "{\"user_id\":"
        + user
        + ",\"item_ids\":["
        + ids
        + "],\"context\":{\"device\":\""
        + device
        + "\",\"timestamp\":\""
        + at
        + "\"},\"request_id\":\""
        + requestId
        + "\"}";
  }
}
