package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1CronJob;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1PersistentVolumeClaim;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * infra/k8s against the Kubernetes API schemas: every core object is read by the official
 * Kubernetes Java client's models (generated from the API's OpenAPI document; they reject unknown
 * fields and missing required ones), the FlinkDeployment is checked against the Flink Kubernetes
 * Operator's CRD schema, and the objects refer to each other and to the CLI correctly.
 */
class KubernetesManifestsTest {
  static final Path K8S = Path.of("..", "infra", "k8s").toAbsolutePath().normalize();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, Class<?>> MODELS =
      Map.of(
          "Namespace", V1Namespace.class,
          "ConfigMap", V1ConfigMap.class,
          "PersistentVolumeClaim", V1PersistentVolumeClaim.class,
          "Deployment", V1Deployment.class,
          "Service", V1Service.class,
          "StatefulSet", V1StatefulSet.class,
          "CronJob", V1CronJob.class,
          "Job", io.kubernetes.client.openapi.models.V1Job.class,
          "HorizontalPodAutoscaler", V2HorizontalPodAutoscaler.class,
          "PodDisruptionBudget", V1PodDisruptionBudget.class);

  /** The metric names {@code infra/prometheus/adapter-rules.yml} makes prometheus-adapter serve. */
  static List<String> adapterMetrics() throws IOException {
    JsonNode rules =
        YAML.readTree(K8S.resolveSibling("prometheus").resolve("adapter-rules.yml").toFile());
    List<String> out = new ArrayList<>();
    rules.path("rules").forEach(r -> out.add(r.path("name").path("as").asText()));
    return out;
  }

  static List<JsonNode> documents() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (var files = Files.list(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        Iterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(f.toFile());
        docs.forEachRemaining(
            d -> {
              if (d != null && !d.isEmpty()) {
                out.add(d);
              }
            });
      }
    }
    return out;
  }

  /** Reads {@code doc} with the client's model of its kind; throws with the client's reason. */
  static Object read(JsonNode doc) throws Exception {
    Class<?> model = MODELS.get(doc.path("kind").asText());
    assertThat(model).as("a model for kind " + doc.path("kind").asText()).isNotNull();
    try {
      return model.getMethod("fromJson", String.class).invoke(null, JSON.writeValueAsString(doc));
    } catch (InvocationTargetException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  void everyCoreObjectIsValidForTheKubernetesApi() throws Exception {
    int core = 0;
    for (JsonNode doc : documents()) {
      if (doc.path("kind").asText().equals("FlinkDeployment")) {
        continue;
      }
      String what = doc.path("kind").asText() + " " + doc.path("metadata").path("name").asText();
      try {
        assertThat(read(doc)).as(what).isNotNull();
      } catch (Exception e) {
        throw new AssertionError(what + ": " + e.getMessage(), e);
      }
      core++;
    }
    assertThat(core).isEqualTo(14);
  }

  @Test
  void theValidationRejectsAnUnknownFieldAndAMissingRequiredOne() throws Exception {
    JsonNode ranker =
        documents().stream()
            .filter(d -> d.path("kind").asText().equals("Deployment"))
            .findFirst()
            .orElseThrow();
    JsonNode misspelled = ranker.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) misspelled.path("spec")).put("replica", 3);
    assertThatThrownBy(() -> read(misspelled)).hasMessageContaining("replica");
    JsonNode noSelector = ranker.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) noSelector.path("spec")).remove("selector");
    assertThatThrownBy(() -> read(noSelector)).hasMessageContaining("selector");
  }

  @Test
  void theFlinkDeploymentMatchesTheOperatorsCrdSchema() throws Exception {
    JsonNode flink =
        documents().stream()
            .filter(d -> d.path("kind").asText().equals("FlinkDeployment"))
            .findFirst()
            .orElseThrow();
    JsonNode schema;
    try (InputStream in =
        getClass()
            .getResourceAsStream("/META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml")) {
      JsonNode crd = YAML.readTree(in);
      schema = null;
      for (JsonNode v : crd.path("spec").path("versions")) {
        if (v.path("name").asText().equals("v1beta1")) {
          schema = v.path("schema").path("openAPIV3Schema");
        }
      }
    }
    assertThat(schema).isNotNull();
    List<String> problems = new ArrayList<>();
    // the newest operator API on Maven Central (1.10.0) predates Flink 2.2: its flinkVersion enum
    // stops before v2_2, which operators from 1.13 on accept; every other constraint is checked
    check(flink.path("spec"), schema.path("properties").path("spec"), "spec", problems);
    assertThat(problems).isEmpty();
    assertThat(flink.path("spec").path("flinkVersion").asText()).isEqualTo("v2_2");

    // the checker itself finds what it should
    JsonNode broken = flink.path("spec").deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.path("job")).put("paralelism", 2);
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.path("job"))
        .put("upgradeMode", "sometimes");
    List<String> found = new ArrayList<>();
    check(broken, schema.path("properties").path("spec"), "spec", found);
    assertThat(found)
        .anyMatch(p -> p.contains("paralelism"))
        .anyMatch(p -> p.contains("upgradeMode"));
  }

  /** Unknown fields, enum values and JSON types of {@code value} against an OpenAPI v3 schema. */
  static void check(JsonNode value, JsonNode schema, String path, List<String> problems) {
    String type = schema.path("type").asText("");
    if (schema.has("enum") && !path.equals("spec.flinkVersion")) {
      List<String> allowed = new ArrayList<>();
      schema.path("enum").forEach(e -> allowed.add(e.asText()));
      if (!allowed.contains(value.asText())) {
        problems.add(path + ": '" + value.asText() + "' not one of " + allowed);
      }
    }
    switch (type) {
      case "object" -> {
        if (!value.isObject()) {
          problems.add(path + ": expected an object");
          return;
        }
        JsonNode props = schema.path("properties");
        JsonNode additional = schema.path("additionalProperties");
        value
            .fields()
            .forEachRemaining(
                f -> {
                  String p = path + "." + f.getKey();
                  if (props.has(f.getKey())) {
                    check(f.getValue(), props.path(f.getKey()), p, problems);
                  } else if (additional.isObject()) {
                    check(f.getValue(), additional, p, problems);
                  } else if (!schema
                      .path("x-kubernetes-preserve-unknown-fields")
                      .asBoolean(false)) {
                    problems.add(p + ": unknown field");
                  }
                });
      }
      case "array" -> {
        if (!value.isArray()) {
          problems.add(path + ": expected an array");
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          check(value.get(i), schema.path("items"), path + "[" + i + "]", problems);
        }
      }
      case "string" -> {
        if (!value.isTextual() && !schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
          problems.add(path + ": expected a string, got " + value.getNodeType());
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          problems.add(path + ": expected an integer, got " + value);
        }
      }
      case "number" -> {
        if (!value.isNumber()) {
          problems.add(path + ": expected a number, got " + value);
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(path + ": expected a boolean");
        }
      }
      default -> {}
    }
  }

  /**
   * Every JVM that keeps its data on the heap (streams, the ranker, the trainer's listener and its
   * nightly run) gets a share of its container's memory limit as heap, in {@code
   * JAVA_TOOL_OPTIONS}: the image's entry point sets none, and without it the JVM takes a quarter.
   * The trainer's manifests had none, so its runs had 3 GiB of a 12 GiB pod and ran out of it on a
   * week of a few events a second; its heap holds a run of {@code max.examples} at its default with
   * room to spare.
   */
  @Test
  void everyJvmHoldingDataTakesAShareOfItsMemoryLimitAsHeap() throws Exception {
    int jvms = 0;
    for (JsonNode d : documents()) {
      JsonNode pod =
          switch (d.path("kind").asText()) {
            case "Deployment", "StatefulSet" -> d.path("spec").path("template");
            case "CronJob" -> d.path("spec").path("jobTemplate").path("spec").path("template");
            default -> null;
          };
      if (pod == null) {
        continue;
      }
      for (JsonNode c : pod.path("spec").path("containers")) {
        String command = c.path("args").path(0).asText();
        if (!List.of("streams", "ranker", "train").contains(command)) {
          continue;
        }
        jvms++;
        String what = d.path("metadata").path("name").asText() + "'s " + command;
        String options = null;
        for (JsonNode e : c.path("env")) {
          if (e.path("name").asText().equals("JAVA_TOOL_OPTIONS")) {
            options = e.path("value").asText();
          }
        }
        assertThat(options).as(what + " JAVA_TOOL_OPTIONS").isNotNull();
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(options);
        assertThat(m.find()).as(what + " -XX:MaxRAMPercentage").isTrue();
        int percent = Integer.parseInt(m.group(1));
        assertThat(percent).as(what + " heap share").isBetween(50, 80);
        long limit = bytes(c.path("resources").path("limits").path("memory").asText());
        if (command.equals("train")) {
          // what a run holds at its peak with max.examples at its default, in a third of the heap
          long peak =
              (long) io.feedrank.trainer.TrainerConfig.DEFAULT_MAX_EXAMPLES
                  * io.feedrank.trainer.TrainerConfig.PEAK_BYTES_PER_EXAMPLE;
          assertThat(limit / 100 * percent).as(what + " heap").isGreaterThan(3 * peak);
        }
      }
    }
    assertThat(jvms).isEqualTo(4);
  }

  /** The nightly CronJob's runs say so in their run.json, apart from an operator's manual ones. */
  @Test
  void theNightlyRunsAreRecordedAsNightly() throws Exception {
    List<String> args = new ArrayList<>();
    for (JsonNode d : documents()) {
      if (d.path("kind").asText().equals("CronJob")
          && d.path("metadata").path("name").asText().equals("trainer-nightly")) {
        d.path("spec")
            .path("jobTemplate")
            .path("spec")
            .path("template")
            .path("spec")
            .path("containers")
            .path(0)
            .path("args")
            .forEach(a -> args.add(a.asText()));
      }
    }
    assertThat(args).startsWith("train");
    TrainCommand train = new TrainCommand();
    new CommandLine(train).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    train.checkRange();
    assertThat(train.trigger).isEqualTo("nightly");
  }

  /** A Kubernetes memory quantity in bytes: a number with a binary suffix (Ki, Mi, Gi) or none. */
  static long bytes(String quantity) {
    assertThat(quantity).matches("\\d+(Ki|Mi|Gi)?");
    int shift =
        quantity.endsWith("Gi")
            ? 30
            : quantity.endsWith("Mi") ? 20 : quantity.endsWith("Ki") ? 10 : 0;
    return Long.parseLong(quantity.replaceAll("\\D", "")) << shift;
  }

  @Test
  void objectsReferToEachOtherAndTheCliAcceptsEveryCommand() throws Exception {
    Map<String, JsonNode> byKindName = new HashMap<>();
    for (JsonNode d : documents()) {
      byKindName.put(d.path("kind").asText() + "/" + d.path("metadata").path("name").asText(), d);
      assertThat(
              d.path("metadata")
                  .path("namespace")
                  .asText(d.path("kind").asText().equals("Namespace") ? "feedrank" : ""))
          .as("namespace of " + d.path("metadata").path("name").asText())
          .isEqualTo("feedrank");
    }
    int commands = 0;
    for (JsonNode d : byKindName.values()) {
      String kind = d.path("kind").asText();
      JsonNode pod =
          switch (kind) {
            case "Deployment", "StatefulSet", "Job" -> d.path("spec").path("template");
            case "CronJob" -> d.path("spec").path("jobTemplate").path("spec").path("template");
            default -> null;
          };
      if (pod == null) {
        continue;
      }
      if (!kind.equals("CronJob") && !kind.equals("Job")) {
        assertThat(pod.path("metadata").path("labels"))
            .as(kind + " selector matches its pods")
            .isEqualTo(d.path("spec").path("selector").path("matchLabels"));
      }
      for (JsonNode c : pod.path("spec").path("containers")) {
        List<String> args = new ArrayList<>();
        c.path("args").forEach(a -> args.add(a.asText()));
        new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        commands++;
        // the probes and the scrape reach a port the container declares
        Map<String, String> ports = new HashMap<>();
        c.path("ports")
            .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asText()));
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
          JsonNode port = c.path(probe).path("httpGet").path("port");
          if (!port.isMissingNode()) {
            assertThat(port.isTextual() ? ports.keySet() : ports.values())
                .as(probe + " port of " + c.path("name").asText())
                .contains(port.asText());
          }
        }
        // and the ports the command is told to listen on are the ones the container declares
        for (String option : List.of("--port", "--management-port")) {
          int i = args.indexOf(option);
          if (i >= 0) {
            assertThat(ports.values())
                .as(option + " of " + c.path("name").asText())
                .contains(args.get(i + 1));
          }
        }
        JsonNode scrape = pod.path("metadata").path("annotations").path("prometheus.io/port");
        if (!scrape.isMissingNode() && !ports.isEmpty()) {
          assertThat(ports.values())
              .as("prometheus.io/port of " + c.path("name").asText())
              .contains(scrape.asText());
        }
        c.path("envFrom")
            .forEach(
                e ->
                    assertThat(byKindName)
                        .containsKey("ConfigMap/" + e.path("configMapRef").path("name").asText()));
      }
      for (JsonNode v : pod.path("spec").path("volumes")) {
        if (v.has("persistentVolumeClaim")) {
          assertThat(byKindName)
              .containsKey(
                  "PersistentVolumeClaim/"
                      + v.path("persistentVolumeClaim").path("claimName").asText());
        }
        if (v.has("configMap")) {
          assertThat(byKindName)
              .containsKey("ConfigMap/" + v.path("configMap").path("name").asText());
        }
      }
    }
    assertThat(commands).isEqualTo(6);
    for (JsonNode d : byKindName.values()) {
      JsonNode selector =
          switch (d.path("kind").asText()) {
            case "Service" -> d.path("spec").path("selector");
            case "PodDisruptionBudget" -> d.path("spec").path("selector").path("matchLabels");
            default -> null;
          };
      if (selector != null) {
        assertThat(byKindName.values())
            .as(
                d.path("kind").asText()
                    + " "
                    + d.path("metadata").path("name").asText()
                    + " selects pods")
            .anyMatch(
                w ->
                    selector.equals(
                        w.path("spec").path("template").path("metadata").path("labels")));
      }
      if (d.path("kind").asText().equals("HorizontalPodAutoscaler")) {
        JsonNode ref = d.path("spec").path("scaleTargetRef");
        assertThat(byKindName)
            .containsKey(ref.path("kind").asText() + "/" + ref.path("name").asText());
        // a pods metric is one the prometheus-adapter rules of infra/prometheus expose
        for (JsonNode m : d.path("spec").path("metrics")) {
          if (m.path("type").asText().equals("Pods")) {
            assertThat(adapterMetrics())
                .as("prometheus-adapter metrics")
                .contains(m.path("pods").path("metric").path("name").asText());
          }
        }
      }
    }
  }
}
