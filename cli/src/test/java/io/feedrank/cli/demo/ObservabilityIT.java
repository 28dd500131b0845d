package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.avro.Topics;
import io.feedrank.cli.Tools;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.OnlineCtrReport;
import io.feedrank.localstack.ChildReaper;
import io.feedrank.localstack.LoopbackCheck;
import io.feedrank.localstack.Ports;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.runs.RunRecord;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The monitoring files of {@code infra/} checked by the tools that read them, and a real scrape:
 * the Debian package's Prometheus scrapes the ranker and streams-features of a running platform,
 * loads the alert rules, and answers a latency quantile and counters that must equal what this test
 * sent; every metric the dashboards and alert rules name must be one the services really export.
 */
class ObservabilityIT {
  static final Path INFRA = Path.of("..", "infra").toAbsolutePath().normalize();
  static final Path PROM = INFRA.resolve("prometheus");
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String ONLINE_CTR =
      "flink_taskmanager_job_task_operator_version_variant_drift_online_ctr";

  @Test
  void promtoolAcceptsTheConfigTheRulesAndTheRuleUnitTests() throws Exception {
    assertThat(run(PROM, "promtool", "check", "config", "prometheus.yml")).isZero();
    assertThat(run(PROM, "promtool", "check", "rules", "alerts.yml")).isZero();
    assertThat(run(PROM, "promtool", "test", "rules", "alerts_test.yml")).isZero();
    // the HPA's latency rule for prometheus-adapter: its query, with the placeholders filled in as
    // the adapter fills them for one pod, is valid PromQL
    JsonNode adapter =
        new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
            .readTree(PROM.resolve("adapter-rules.yml").toFile());
    Path dir = Files.createDirectories(Path.of("target", "observability-it-adapter"));
    StringBuilder rules = new StringBuilder("groups:\n  - name: adapter\n    rules:\n");
    for (JsonNode rule : adapter.path("rules")) {
      String query =
          rule.path("metricsQuery")
              .asText()
              .replace("<<.GroupBy>>", "pod")
              .replace("<<.LabelMatchers>>", "namespace=\"feedrank\",pod=\"ranker-0\"");
      assertThat(query).doesNotContain("<<");
      rules
          .append("      - record: ")
          .append(rule.path("name").path("as").asText())
          .append("\n        expr: ")
          .append(JSON.writeValueAsString(query))
          .append('\n');
    }
    Files.writeString(dir.resolve("adapter-as-rules.yml"), rules);
    assertThat(run(dir, "promtool", "check", "rules", "adapter-as-rules.yml")).isZero();
  }

  @Test
  void prometheusScrapesTheServicesAndTheDashboardsNameRealMetrics() throws Exception {
    Path dir = Path.of("target", "observability-it-" + System.nanoTime()).toAbsolutePath();
    int streamsMetrics = Ports.freePort();
    int flinkMetrics = Ports.freePort();
    int trainerMetrics = Ports.freePort();
    Map<String, String> trainer = new HashMap<>();
    trainer.put("architectures", "mlp");
    trainer.put("max.epochs", "2");
    trainer.put("min.examples", "5000");
    trainer.put("export.verify.rows", "2000");
    trainer.put("metrics.port", Integer.toString(trainerMetrics));
    Instant start = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(6, ChronoUnit.HOURS);
    long pid = ProcessHandle.current().pid();
    Set<String> listenersBefore = LoopbackCheck.listeningSocketsOfProcess(pid);
    SimulatorConfig world =
        SimulatorConfig.defaults(3, start)
            .withPopulation(2_000, 5_000)
            .withEventsPerEventSecond(10);
    InteractionSimulator sim = new InteractionSimulator(world);
    try (Platform p =
        Platform.start(
            new Platform.Settings(
                dir,
                0,
                0,
                0,
                1,
                Map.of("metrics.port", Integer.toString(streamsMetrics)),
                // online-CTR windows close once event time is this far past them (30 min default)
                Map.of("attribution.window.ms", "60000"),
                // a short warm-up: the path runs, without competing with the test for long
                Map.of("port", "0", "warmup.requests", "500"),
                trainer,
                Clock.systemUTC(),
                flinkMetrics,
                true),
            s -> {})) {
      String ranker = "http://127.0.0.1:" + p.ranker().port();
      // every listener the services opened in this JVM, with no host configured (the ranker, the
      // metrics endpoints of streams-features, the trainer and the drift job, Flink's own), is on
      // loopback only
      Set<String> opened = new HashSet<>(LoopbackCheck.listeningSocketsOfProcess(pid));
      opened.removeAll(listenersBefore);
      assertThat(opened.stream().map(a -> Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))))
          .contains(p.ranker().port(), streamsMetrics, flinkMetrics, trainerMetrics);
      assertThat(opened)
          .allSatisfy(
              a -> assertThat(a.substring(0, a.lastIndexOf(':'))).isIn(LoopbackCheck.LOOPBACK));
      // before any model: rankings by popularity, counted as fallbacks
      List<Double> clientMillis = new ArrayList<>();
      int ok = 0;
      for (int i = 0; i < 5; i++) {
        ok += rank(ranker, sim, clientMillis) == 200 ? 1 : 0;
      }

      long events;
      try (Traffic traffic = new Traffic(sim, p.clientConfig())) {
        events = traffic.history(30_000, () -> false).interactions();
        traffic.badRecords(5);
      }
      Awaitility.await("streams-features catching up")
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> p.featuresLag() == 0);

      RunRecord run =
          p.trainer()
              .trainOnce(new DataRange(start, sim.eventTime().plusMillis(1)), "observability-it");
      assertThat(run.status).as("run %s: %s", run.id, run.error).isEqualTo(RunRecord.SUCCEEDED);
      RunRecord.ModelRun m = run.registeredModel().orElseThrow();
      if (!Promotion.DECISION_PROMOTED.equals(m.decision)) {
        // an operator's promotion: the test needs a serving model, not a better one
        p.trainer()
            .registry()
            .publish(
                Promotion.promote(
                    p.trainer().registry().versions("feed-ranker"),
                    m.version,
                    "test",
                    Instant.now()));
      }
      Awaitility.await("the ranker loading the model")
          .atMost(Duration.ofMinutes(1))
          .until(
              () ->
                  p.ranker()
                          .slots()
                          .current(io.feedrank.ranker.models.ModelSlots.Variant.PRODUCTION)
                      != null);
      for (int i = 0; i < 60; i++) {
        ok += rank(ranker, sim, clientMillis) == 200 ? 1 : 0;
      }
      assertThat(ok).isEqualTo(65);

      int promPort = Ports.freePort();
      Path config = dir.resolve("prometheus.yml");
      Files.writeString(
          config,
          String.join(
              "\n",
              "global:",
              "  scrape_interval: 1s",
              "  evaluation_interval: 1s",
              "rule_files:",
              "  - " + PROM.resolve("alerts.yml"),
              "scrape_configs:",
              "  - job_name: ranker",
              "    static_configs: [{targets: ['127.0.0.1:" + p.ranker().port() + "']}]",
              "  - job_name: streams-features",
              "    static_configs: [{targets: ['127.0.0.1:" + streamsMetrics + "']}]",
              "  - job_name: trainer",
              "    static_configs: [{targets: ['127.0.0.1:" + trainerMetrics + "']}]",
              "  - job_name: flink",
              "    static_configs: [{targets: ['127.0.0.1:" + flinkMetrics + "']}]",
              ""));
      Process prometheus =
          new ProcessBuilder(
                  "prometheus",
                  "--config.file=" + config,
                  "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
                  "--web.listen-address=127.0.0.1:" + promPort)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("prometheus.log").toFile())
              .start();
      // gone with this JVM, also when a CI timeout kills it before the finally below
      ChildReaper reaper = ChildReaper.watch(prometheus);
      try {
        String api = "http://127.0.0.1:" + promPort + "/api/v1/";
        awaitValue(api, "sum(ranker_requests_total{endpoint=\"/v1/rank\",status=\"200\"})", 65);
        awaitValue(api, "sum(features_events_processed_total)", events);
        awaitValue(api, "sum(features_events_dlq_total)", 15);
        awaitValue(api, "sum(ranker_fallbacks_total{cause=\"no_model\"})", 5);
        awaitValue(api, "sum(trainer_runs_total{status=\"SUCCEEDED\"})", 1);
        // the drift job's reports as Flink gauges: one series per monitored feature and the score,
        // under the job's name after its model, which the drift alert rules group by
        awaitValue(
            api,
            "count(flink_taskmanager_job_task_operator_feature_drift_psi{job_name=\"feedrank-drift-feed-ranker\",feature=~\"item_category|device|i_content_length\"})",
            3);
        awaitValue(
            api,
            "count(flink_jobmanager_job_numRestarts{job_name=\"feedrank-drift-feed-ranker\"})",
            1);

        // p99 of every ranking so far, from the server's histogram: each server-side latency is
        // at most its client-side one, so it cannot exceed the bucket holding the client's max
        double p99 =
            query(
                api,
                "histogram_quantile(0.99, sum by (le)"
                    + " (ranker_request_latency_seconds_bucket{endpoint=\"/v1/rank\"}))");
        double clientMax = clientMillis.stream().mapToDouble(d -> d).max().orElseThrow() / 1000;
        double bound =
            bucketBounds(api).stream()
                .filter(b -> b >= clientMax)
                .findFirst()
                .orElse(Double.MAX_VALUE);
        assertThat(p99).isPositive().isLessThanOrEqualTo(bound);

        JsonNode rules = get(api + "rules").path("data").path("groups");
        assertThat(rules.findValues("name").stream().map(JsonNode::asText))
            .contains(
                "RankerLatencyP99High",
                "FeaturesDlqRateHigh",
                "ModelTooOld",
                "TargetDown",
                "RankerDown");

        // feeds ranked by the model and the users' reactions naming their requests, while event
        // time moves on: the drift job closes online-CTR windows per version and variant
        try (Traffic moving = new Traffic(sim, p.clientConfig());
            RankingClient app = new RankingClient(ranker, sim, p.clientConfig(), 100, 10, 20, 5)) {
          moving.startBackground(1_000);
          app.start();
          // well within 2 minutes on a quiet machine; the bound is for a loaded one, where the
          // traffic's event time moves slower and windows close later (it ran out at 2 minutes at
          // a load of 15 to 20)
          Awaitility.await("online CTR from the drift job")
              .atMost(Duration.ofMinutes(4))
              .pollInterval(Duration.ofSeconds(1))
              .ignoreExceptionsInstanceOf(IOException.class)
              .until(() -> query(api, "count(" + ONLINE_CTR + ")") >= 1);
          moving.stopBackground();
        }
        // each series is the latest window of its version and variant: its value is the CTR of a
        // report the drift job wrote for them on online-ctr (clicks / impressions there; the
        // report is visible once the job's checkpoint commits it)
        Awaitility.await("the online CTR gauges equal reports on the online-ctr topic")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofSeconds(2))
            .ignoreExceptionsInstanceOf(IOException.class)
            .untilAsserted(
                () -> {
                  List<OnlineCtrReport> reports =
                      ClosedLoopIT.read(p.clientConfig(), Topics.ONLINE_CTR, OnlineCtrReport.class);
                  int matched = 0;
                  for (JsonNode series :
                      get(api
                              + "query?query="
                              + URLEncoder.encode(ONLINE_CTR, StandardCharsets.UTF_8))
                          .path("data")
                          .path("result")) {
                    double value = Double.parseDouble(series.path("value").get(1).asText());
                    if (Double.isNaN(value)) {
                      continue; // a window restored without its figures
                    }
                    String version = series.path("metric").path("version").asText();
                    String variant = series.path("metric").path("variant").asText();
                    List<OnlineCtrReport> theirs =
                        reports.stream()
                            .filter(
                                r ->
                                    r.getModelVersion().toString().equals(version)
                                        && r.getVariant().toString().equals(variant))
                            .toList();
                    assertThat(theirs).as("reports of %s/%s", version, variant).isNotEmpty();
                    assertThat(theirs)
                        .allSatisfy(
                            r ->
                                assertThat(r.getCtr())
                                    .isCloseTo(
                                        (double) r.getClicks() / r.getImpressions(),
                                        within(1e-12)));
                    assertThat(theirs)
                        .as(
                            "the gauge of %s/%s, %s, is one of its reports' CTR",
                            version, variant, value)
                        .anySatisfy(r -> assertThat(r.getCtr()).isCloseTo(value, within(1e-9)));
                    matched++;
                  }
                  assertThat(matched).isPositive();
                });

        Set<String> named = metricNames();
        assertThat(named).hasSizeGreaterThan(15);
        // a scrape can fall between the registration of two gauges of one key (the online CTR and
        // its impressions): what is missing must show up by a later one
        Awaitility.await("every metric the dashboards and rules name")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofSeconds(1))
            .untilAsserted(
                () -> {
                  Set<String> exported = new TreeSet<>();
                  get(api + "label/__name__/values")
                      .path("data")
                      .forEach(n -> exported.add(n.asText()));
                  assertThat(exported).containsAll(named);
                });

        // a newer PRODUCTION record whose artifact fails its checksum: the ranker refuses it,
        // keeps serving, and the alert rule fires on that first refusal
        assertThat(firing(api)).doesNotContain("RankerModelRefused");
        ModelVersion serving =
            p.trainer().registry().versions("feed-ranker").stream()
                .filter(v -> v.getVersion().equals(m.version))
                .findFirst()
                .orElseThrow();
        p.trainer()
            .registry()
            .publish(
                List.of(
                    ModelVersion.newBuilder(serving)
                        .setVersion(m.version + "-tampered")
                        .setStage(ModelStage.PRODUCTION)
                        .setUpdatedAt(Instant.now())
                        .setArtifactSha256("ab".repeat(32))
                        .build()));
        Awaitility.await("RankerModelRefused firing")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .untilAsserted(() -> assertThat(firing(api)).contains("RankerModelRefused"));
        assertThat(query(api, "sum(ranker_model_load_failures_total{reason=\"checksum\"})"))
            .isEqualTo(1.0);
        assertThat(
                p.ranker()
                    .slots()
                    .current(io.feedrank.ranker.models.ModelSlots.Variant.PRODUCTION)
                    .version())
            .isEqualTo(m.version);
      } finally {
        prometheus.destroy();
        if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
          prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        reaper.close();
      }
    }
  }

  /** Metric names in the dashboards' queries and the alert rules' expressions (Flink's too). */
  static Set<String> metricNames() throws IOException {
    Pattern name = Pattern.compile("\\b((?:ranker|features|kafka|flink|trainer)_[a-zA-Z0-9_]+)");
    List<String> exprs = new ArrayList<>();
    try (var files = Files.list(INFRA.resolve("grafana").resolve("dashboards"))) {
      for (Path f : files.toList()) {
        JSON.readTree(f.toFile()).findValues("expr").forEach(e -> exprs.add(e.asText()));
      }
    }
    exprs.add(Files.readString(PROM.resolve("alerts.yml")));
    Set<String> out = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = name.matcher(e);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  static int rank(String base, InteractionSimulator sim, List<Double> millis) throws Exception {
    InteractionSimulator.FeedRequest r =
        sim.feedRequest(100, new java.util.SplittableRandom(millis.size()));
    String body =
        "{\"user_id\": "
            + r.userId()
            + ", \"item_ids\": "
            + r.candidates()
            + ", \"context\": {\"device\": \"mobile\"}, \"top_k\": 10}";
    long t0 = System.nanoTime();
    HttpResponse<String> resp =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/rank"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    millis.add((System.nanoTime() - t0) / 1e6);
    return resp.statusCode();
  }

  static List<Double> bucketBounds(String api) throws Exception {
    JsonNode r =
        get(
            api
                + "series?match[]="
                + URLEncoder.encode(
                    "ranker_request_latency_seconds_bucket{endpoint=\"/v1/rank\"}",
                    StandardCharsets.UTF_8));
    List<Double> out = new ArrayList<>();
    r.path("data")
        .forEach(
            s -> {
              String le = s.path("le").asText();
              out.add(le.equals("+Inf") ? Double.MAX_VALUE : Double.parseDouble(le));
            });
    out.sort(Double::compare);
    return out;
  }

  /** The names of the alerts Prometheus has firing now. */
  static Set<String> firing(String api) throws Exception {
    Set<String> out = new TreeSet<>();
    for (JsonNode a : get(api + "alerts").path("data").path("alerts")) {
      if (a.path("state").asText().equals("firing")) {
        out.add(a.path("labels").path("alertname").asText());
      }
    }
    return out;
  }

  /** Until Prometheus answers {@code promql} with {@code expected} (it may still be starting). */
  static void awaitValue(String api, String promql, double expected) {
    Awaitility.await(promql)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(IOException.class)
        .untilAsserted(() -> assertThat(query(api, promql)).as(promql).isEqualTo(expected));
  }

  static double query(String api, String promql) throws Exception {
    JsonNode r = get(api + "query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    JsonNode result = r.path("data").path("result");
    if (!result.isArray() || result.isEmpty()) {
      return Double.NaN;
    }
    return Double.parseDouble(result.get(0).path("value").get(1).asText());
  }

  static JsonNode get(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(url + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  static int run(Path dir, String... command) throws Exception {
    return Tools.run(dir, "prometheus", command);
  }
}
