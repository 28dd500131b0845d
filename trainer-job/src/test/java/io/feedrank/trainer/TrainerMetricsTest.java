package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.trainer.runs.RunRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerMetricsTest {
  static RunRecord run(String status, String version, String decision, double auc) {
    RunRecord r = new RunRecord();
    r.id = "run-" + version;
    r.status = status;
    r.startedAt = "2026-11-23T10:00:00Z";
    r.finishedAt = "2026-11-23T10:01:30Z";
    if (version != null) {
      RunRecord.ModelRun m = new RunRecord.ModelRun();
      m.architecture = "mlp";
      m.version = version;
      m.decision = decision;
      m.metrics.put("auc", auc);
      r.models.add(m);
    }
    return r;
  }

  @Test
  void runsAreCountedByStatusAndDecisionAndEachVersionKeepsItsAuc() throws Exception {
    try (TrainerMetrics m = new TrainerMetrics("127.0.0.1", 0)) {
      m.record(run(RunRecord.SUCCEEDED, "v1", "PROMOTED", 0.71));
      m.record(run(RunRecord.SUCCEEDED, "v2", "REJECTED", 0.69));
      m.record(run(RunRecord.SUCCEEDED, "v3", "PROMOTED", 0.74));
      m.record(run(RunRecord.REFUSED, null, null, 0));
      var r = m.registry();
      assertThat(
              r.get("trainer.runs")
                  .tags("status", "SUCCEEDED", "decision", "PROMOTED")
                  .counter()
                  .count())
          .isEqualTo(2.0);
      assertThat(
              r.get("trainer.runs")
                  .tags("status", "SUCCEEDED", "decision", "REJECTED")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      assertThat(
              r.get("trainer.runs").tags("status", "REFUSED", "decision", "none").counter().count())
          .isEqualTo(1.0);
      assertThat(
              r.get("trainer.runs").tags("status", "FAILED", "decision", "none").counter().count())
          .isZero();
      assertThat(r.get("trainer.model.auc").tags("version", "v2").gauge().value()).isEqualTo(0.69);
      assertThat(
              r.get("trainer.model.auc")
                  .tags("version", "v3", "decision", "PROMOTED")
                  .gauge()
                  .value())
          .isEqualTo(0.74);
      // 4 runs of 90 s each
      assertThat(r.get("trainer.run.duration").summary().count()).isEqualTo(4);
      assertThat(r.get("trainer.run.duration").summary().totalAmount()).isEqualTo(360.0);
    }
  }

  @Test
  void everyStatusAndEverySuccessfulDecisionAndSkippedCommandsAreScrapedAtZeroBeforeTheFirstRun() {
    // increase() sees no increase in a series whose first scrape reads 1: the first run of each
    // kind must find its series at 0 already
    try (TrainerMetrics m = new TrainerMetrics("127.0.0.1", 0)) {
      String scrape = m.registry().scrape();
      for (String decision : List.of("PROMOTED", "STAGED", "REJECTED")) {
        assertThat(scrape)
            .contains("trainer_runs_total{decision=\"" + decision + "\",status=\"SUCCEEDED\"} 0.0");
      }
      for (String status : List.of("SUCCEEDED", "FAILED", "REFUSED", "CANCELLED")) {
        assertThat(scrape)
            .contains("trainer_runs_total{decision=\"none\",status=\"" + status + "\"} 0.0");
      }
      assertThat(scrape).contains("trainer_commands_skipped_total{reason=\"other_model\"} 0.0");
      m.record(run(RunRecord.SUCCEEDED, "v1", "STAGED", 0.7));
      assertThat(m.registry().scrape())
          .contains("trainer_runs_total{decision=\"STAGED\",status=\"SUCCEEDED\"} 1.0")
          .contains("trainer_runs_total{decision=\"PROMOTED\",status=\"SUCCEEDED\"} 0.0");
    }
  }

  @Test
  void onlyTheNewestVersionsAreKeptAndMetricsAreServedOnLoopback() throws Exception {
    try (TrainerMetrics m =
        new TrainerMetrics("127.0.0.1", io.feedrank.localstack.Ports.freePort())) {
      for (int i = 0; i < TrainerMetrics.VERSIONS_KEPT + 5; i++) {
        m.record(run(RunRecord.SUCCEEDED, "v" + i, "STAGED", 0.5 + i / 1000.0));
      }
      assertThat(m.registry().find("trainer.model.auc").gauges())
          .hasSize(TrainerMetrics.VERSIONS_KEPT);
      assertThat(m.registry().find("trainer.model.auc").tag("version", "v0").gauge()).isNull();
      HttpResponse<String> scrape =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.body())
          .contains("trainer_runs_total{decision=\"STAGED\",status=\"SUCCEEDED\"} 55.0");
    }
  }
}
