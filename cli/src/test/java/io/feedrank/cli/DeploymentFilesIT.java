package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docker-compose.yml and the Dockerfile, checked by what reads them: Debian's docker-compose parses
 * and validates the file ({@code config -q}, no engine needed), every feedrank service's command is
 * parsed by the CLI itself (so a renamed option fails here, not at deploy time), and the wiring
 * between the files holds: healthchecks and conditions, named volumes, loopback-only published
 * ports that the header documents, build targets the Dockerfile defines, Prometheus targets and its
 * Alertmanager that are compose services on the ports they listen on, Grafana mounts where
 * provisioning looks.
 */
class DeploymentFilesIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void dockerComposeValidatesTheFile() throws Exception {
    assertThat(
            Tools.run(
                ROOT,
                "docker-compose",
                "docker-compose",
                "-f",
                ROOT.resolve("docker-compose.yml").toString(),
                "config",
                "-q"))
        .isZero();
  }

  @Test
  void servicesAreWiredTheWayTheirFilesSay() throws Exception {
    String text = Files.readString(ROOT.resolve("docker-compose.yml"));
    JsonNode compose = YAML.readTree(text);
    JsonNode services = compose.path("services");
    Set<String> declaredVolumes = new HashSet<>();
    compose.path("volumes").fieldNames().forEachRemaining(declaredVolumes::add);
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    Set<String> targets = new HashSet<>();
    Matcher from = Pattern.compile("(?m)^FROM \\S+ AS (\\S+)$").matcher(dockerfile);
    while (from.find()) {
      targets.add(from.group(1));
    }
    String header = text.substring(0, text.indexOf("\nx-feedrank-env"));
    Set<String> oneShot = Set.of("kafka-init");
    Set<String> workers = Set.of("trainer", "flink-taskmanager", "grafana");

    for (Map.Entry<String, JsonNode> e : iterable(services)) {
      String name = e.getKey();
      JsonNode s = e.getValue();
      if (!oneShot.contains(name) && !workers.contains(name)) {
        assertThat(s.has("healthcheck")).as(name + " has a healthcheck").isTrue();
      }
      for (Map.Entry<String, JsonNode> d : iterable(s.path("depends_on"))) {
        assertThat(d.getValue().path("condition").asText())
            .as(name + " waits for " + d.getKey() + " with a condition")
            .isIn("service_healthy", "service_started", "service_completed_successfully");
        assertThat(services.has(d.getKey())).isTrue();
      }
      for (JsonNode v : s.path("volumes")) {
        String source = v.asText().split(":")[0];
        if (!source.startsWith(".")) {
          assertThat(declaredVolumes).as(name + " mounts a named volume").contains(source);
        } else {
          assertThat(ROOT.resolve(source)).as(name + " mounts a repository path").exists();
        }
      }
      for (JsonNode port : s.path("ports")) {
        String[] parts = port.asText().split(":");
        assertThat(parts).as(name + " publishes on loopback only").hasSize(3);
        assertThat(parts[0]).isEqualTo("127.0.0.1");
        assertThat(header)
            .as("port " + parts[1] + " documented in the header")
            .contains(parts[1] + "  ");
      }
      if (s.has("build")) {
        assertThat(targets)
            .as(name + " builds a Dockerfile target")
            .contains(s.path("build").path("target").asText());
      }
    }

    // every feedrank command line is one the CLI accepts
    List<String> checked = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : iterable(services)) {
      if (e.getValue().path("image").asText().startsWith("feedrank/app")) {
        List<String> args = new ArrayList<>();
        e.getValue().path("command").forEach(a -> args.add(a.asText()));
        new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        checked.add(e.getKey());
      }
    }
    assertThat(checked).containsExactlyInAnyOrder("streams-features", "ranker", "trainer");

    // Prometheus scrapes compose services on the ports they listen on
    JsonNode prometheus = YAML.readTree(ROOT.resolve("infra/prometheus/prometheus.yml").toFile());
    Map<String, String> listens =
        Map.of(
            "ranker", "8080",
            "streams-features", "9401",
            "trainer", "9402",
            "flink-jobmanager", "9249",
            "flink-taskmanager", "9249");
    int targetsSeen = 0;
    for (JsonNode job : prometheus.path("scrape_configs")) {
      for (JsonNode sc : job.path("static_configs")) {
        for (JsonNode t : sc.path("targets")) {
          String[] hp = t.asText().split(":");
          assertThat(services.has(hp[0])).as("scrape target " + t.asText()).isTrue();
          assertThat(hp[1]).isEqualTo(listens.get(hp[0]));
          targetsSeen++;
        }
      }
    }
    assertThat(targetsSeen).isEqualTo(5);
    // and sends its alerts to the compose Alertmanager, on the port it listens on, which reads the
    // routing of infra/alertmanager
    List<String> alertmanagers = new ArrayList<>();
    prometheus
        .path("alerting")
        .path("alertmanagers")
        .forEach(
            a ->
                a.path("static_configs")
                    .forEach(s -> s.path("targets").forEach(t -> alertmanagers.add(t.asText()))));
    assertThat(alertmanagers).containsExactly("alertmanager:9093");
    JsonNode alertmanager = services.path("alertmanager");
    assertThat(alertmanager.path("ports").get(0).asText()).endsWith(":9093:9093");
    assertThat(alertmanager.path("command").toString())
        .contains("--config.file=/etc/alertmanager/alertmanager.yml");
    assertThat(alertmanager.path("volumes").toString())
        .contains("./infra/alertmanager:/etc/alertmanager:ro");
    // the long-running app services are restarted when they exit on a failure (feedrank streams
    // exits 1 when its Kafka Streams client has failed for good)
    for (String app : new String[] {"streams-features", "ranker", "trainer"}) {
      assertThat(services.path(app).path("restart").asText()).as(app).isEqualTo("on-failure");
    }
    assertThat(services.path("ranker").path("command").toString()).contains("\"8080\"");
    assertThat(services.path("streams-features").path("command").toString()).contains("\"9401\"");
    assertThat(
            services.path("flink-jobmanager").path("environment").path("FLINK_PROPERTIES").asText())
        .contains("metrics.reporter.prom.port: 9249");

    // Grafana's datasource is the compose Prometheus on the port it listens on
    JsonNode datasource =
        YAML.readTree(
                ROOT.resolve("infra/grafana/provisioning/datasources/prometheus.yml").toFile())
            .path("datasources")
            .get(0);
    assertThat(datasource.path("url").asText()).isEqualTo("http://prometheus:9090");
    assertThat(services.has("prometheus")).isTrue();
    assertThat(services.path("prometheus").path("ports").get(0).asText()).endsWith(":9090");

    // Grafana: provisioning mounted where Grafana reads it, dashboards where the provider looks
    JsonNode provider =
        YAML.readTree(ROOT.resolve("infra/grafana/provisioning/dashboards/feedrank.yml").toFile());
    String dashboardsPath = provider.path("providers").get(0).path("options").path("path").asText();
    List<String> grafanaVolumes = new ArrayList<>();
    services.path("grafana").path("volumes").forEach(v -> grafanaVolumes.add(v.asText()));
    assertThat(grafanaVolumes)
        .contains(
            "./infra/grafana/provisioning:/etc/grafana/provisioning:ro",
            "./infra/grafana/dashboards:" + dashboardsPath + ":ro");
  }

  static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode n) {
    return n::fields;
  }
}
