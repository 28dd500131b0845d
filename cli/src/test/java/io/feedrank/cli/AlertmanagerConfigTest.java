package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * infra/alertmanager/alertmanager.yml, which no tool of the build reads (Debian's prometheus
 * package has no amtool): its keys are Alertmanager's (it refuses unknown ones), every receiver a
 * route names is defined, and each severity the rules of infra/prometheus/alerts.yml give reaches
 * the receiver the file documents. Both Prometheus configurations send their alerts to an
 * Alertmanager; prometheus-k8s.yml is read by nothing else here (Debian's promtool has no
 * Kubernetes discovery and refuses it).
 */
class AlertmanagerConfigTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path INFRA = ROOT.resolve("infra");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * Alertmanager's top-level keys and a route's (its documentation, "Configuration"); a route's
   * deprecated {@code match} and {@code match_re} left out, as {@link #receiverFor} reads {@code
   * matchers} only.
   */
  static final Set<String> TOP_LEVEL =
      Set.of(
          "global",
          "templates",
          "route",
          "inhibit_rules",
          "receivers",
          "time_intervals",
          "mute_time_intervals");

  static final Set<String> ROUTE =
      Set.of(
          "receiver",
          "group_by",
          "continue",
          "matchers",
          "group_wait",
          "group_interval",
          "repeat_interval",
          "mute_time_intervals",
          "active_time_intervals",
          "routes");

  static final Pattern EQUALITY = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  static JsonNode alertmanager() throws IOException {
    return YAML.readTree(INFRA.resolve("alertmanager").resolve("alertmanager.yml").toFile());
  }

  @Test
  void everySeverityOfTheAlertRulesReachesItsReceiver() throws Exception {
    Set<String> severities = new TreeSet<>();
    for (JsonNode group :
        YAML.readTree(INFRA.resolve("prometheus").resolve("alerts.yml").toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        severities.add(rule.path("labels").path("severity").asText());
      }
    }
    assertThat(severities).containsExactly("page", "warning");
    JsonNode route = alertmanager().path("route");
    assertThat(receiverFor(route, Map.of("alertname", "RankerDown", "severity", "page"), null))
        .isEqualTo("page");
    assertThat(receiverFor(route, Map.of("alertname", "TargetDown", "severity", "warning"), null))
        .isEqualTo("default");
  }

  @Test
  void theKeysAreAlertmanagersAndEveryRouteNamesADefinedReceiver() throws Exception {
    JsonNode config = alertmanager();
    config
        .fieldNames()
        .forEachRemaining(k -> assertThat(TOP_LEVEL).as("top-level key").contains(k));
    Set<String> defined = new HashSet<>();
    for (JsonNode r : config.path("receivers")) {
      assertThat(defined.add(r.path("name").asText())).as("receiver names are unique").isTrue();
      // the webhooks are placeholders the README tells the operator to replace
      for (JsonNode w : r.path("webhook_configs")) {
        String url = w.path("url").asText();
        assertThat(URI.create(url).getHost()).as(url).endsWith(".invalid");
        assertThat(Files.readString(ROOT.resolve("README.md"))).contains(url);
      }
    }
    List<String> named = new ArrayList<>();
    receivers(config.path("route"), named);
    assertThat(named).isNotEmpty();
    assertThat(defined).containsAll(named);
    // the top route, which takes what no other does, names its receiver
    assertThat(config.path("route").path("receiver").asText()).isNotEmpty();
  }

  @Test
  void bothPrometheusConfigurationsSendToAnAlertmanager() throws Exception {
    for (String file : List.of("prometheus.yml", "prometheus-k8s.yml")) {
      List<String> targets = new ArrayList<>();
      YAML.readTree(INFRA.resolve("prometheus").resolve(file).toFile())
          .path("alerting")
          .path("alertmanagers")
          .forEach(
              a ->
                  a.path("static_configs")
                      .forEach(s -> s.path("targets").forEach(t -> targets.add(t.asText()))));
      assertThat(targets).as(file).singleElement().asString().matches("[a-z0-9.-]+:9093");
    }
  }

  /** The receivers {@code route} and the routes under it name, after checking their keys. */
  static void receivers(JsonNode route, List<String> out) {
    route.fieldNames().forEachRemaining(k -> assertThat(ROUTE).as("route key").contains(k));
    if (route.has("receiver")) {
      out.add(route.path("receiver").asText());
    }
    route.path("routes").forEach(r -> receivers(r, out));
  }

  /**
   * The receiver Alertmanager's routing gives an alert with {@code labels}: the first child route
   * whose matchers all hold (none here sets {@code continue}), else the route itself; a route
   * without a receiver inherits its parent's. Equality matchers only, which is all the file uses.
   */
  static String receiverFor(JsonNode route, Map<String, String> labels, String inherited) {
    String own = route.path("receiver").asText(inherited);
    for (JsonNode child : route.path("routes")) {
      assertThat(child.path("continue").asBoolean(false)).isFalse();
      if (matches(child, labels)) {
        return receiverFor(child, labels, own);
      }
    }
    return own;
  }

  static boolean matches(JsonNode route, Map<String, String> labels) {
    for (JsonNode m : route.path("matchers")) {
      Matcher e = EQUALITY.matcher(m.asText());
      assertThat(e.matches()).as("an equality matcher: " + m.asText()).isTrue();
      if (!e.group(2).equals(labels.getOrDefault(e.group(1), ""))) {
        return false;
      }
    }
    return true;
  }
}
