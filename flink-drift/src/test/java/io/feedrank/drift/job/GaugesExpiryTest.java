package io.feedrank.drift.job;

import static io.feedrank.drift.job.GaugesRestartTest.harness;
import static io.feedrank.drift.job.GaugesRestartTest.minute;
import static io.feedrank.drift.job.GaugesRestartTest.restored;
import static io.feedrank.drift.job.GaugesRestartTest.window;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.drift.job.GaugesRestartTest.RecordedCtr;
import io.feedrank.drift.job.GaugesRestartTest.RecordedReports;
import io.feedrank.drift.job.GaugesRestartTest.Recorder;
import java.time.Duration;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.Test;

/**
 * The drift job's gauges when no window closes at all (traffic stopped, event time stands still):
 * once no report has arrived for {@code expiryWindows} window lengths of processing time, every
 * feature's gauges read no verdict (NaN PSI and KS, no sample, nothing drifted), so that the {@code
 * FeatureDrift} alert resolves instead of firing on an hours-old window; {@code drift.window.end}
 * keeps when each feature last reported, for {@code DriftWindowsStale}. Processing time is the
 * harness's; the windows are a minute long and expire after 3.
 */
class GaugesExpiryTest {
  static final long MINUTE = 60_000;

  static void assertNoVerdict(Recorder g, String feature, double windowEndSeconds) {
    String f = "feature=" + feature + "/";
    assertThat((Double) g.value(f + "drift.psi")).as(feature + " psi").isNaN();
    assertThat((Double) g.value(f + "drift.ks")).as(feature + " ks").isNaN();
    assertThat(g.value(f + "drift.drifted")).as(feature + " drifted").isEqualTo(0);
    assertThat(g.value(f + "drift.n")).as(feature + " n").isEqualTo(0L);
    assertThat(g.value(f + "drift.sample.size")).as(feature + " sample").isEqualTo(0L);
    assertThat(g.value(f + "drift.window.end")).isEqualTo(windowEndSeconds);
  }

  @Test
  void aVerdictExpiresWhenNoWindowClosesForThreeWindowLengths() throws Exception {
    RecordedReports f = new RecordedReports();
    try (var h = harness(f, ReportGauges::keyOf, 1, 0)) {
      h.open();
      Recorder g = f.recorder;
      h.setProcessingTime(1_000_000);
      h.processElement(new StreamRecord<>(minute("x", 0.30, true, 1)));
      h.processElement(new StreamRecord<>(minute("y", 0.40, true, 1)));
      h.setProcessingTime(1_000_000 + MINUTE);
      h.processElement(new StreamRecord<>(minute("x", 0.31, true, 2)));

      // then nothing: two minutes after the last report the verdict still stands
      h.setProcessingTime(1_000_000 + 4 * MINUTE - 1);
      assertThat(g.value("feature=x/drift.drifted")).isEqualTo(1);
      assertThat(g.value("feature=x/drift.psi")).isEqualTo(0.31);
      assertThat(g.value("feature=x/drift.sample.size")).isEqualTo(900L);
      assertThat(g.value("feature=y/drift.drifted")).isEqualTo(1);

      // three window lengths (3 min) without a report: no verdict for either feature
      h.setProcessingTime(1_000_000 + 4 * MINUTE);
      assertNoVerdict(g, "x", 120.0);
      assertNoVerdict(g, "y", 60.0);

      // a window closes again: its feature is back, and the other's verdict with it
      h.processElement(new StreamRecord<>(minute("x", 0.05, false, 3)));
      assertThat(g.value("feature=x/drift.psi")).isEqualTo(0.05);
      assertThat(g.value("feature=x/drift.n")).isEqualTo(900L);
      assertThat(g.value("feature=y/drift.psi")).isEqualTo(0.40);
      assertThat(g.gauges).hasSize(12);
    }
  }

  /**
   * The time of the last report is checkpointed: a job restored after a short failure shows the
   * verdict at once (the alert does not resolve while it restarts), one restored after a longer
   * downtime does not show an old one; both keep each feature's window end.
   */
  @Test
  void aRestoredJobShowsItsVerdictOnlyWhileItIsRecent() throws Exception {
    OperatorSubtaskState checkpoint;
    try (var h = harness(new RecordedReports(), ReportGauges::keyOf, 1, 0)) {
      h.open();
      h.setProcessingTime(5 * MINUTE);
      h.processElement(new StreamRecord<>(minute("x", 0.30, true, 1)));
      h.setProcessingTime(6 * MINUTE);
      checkpoint = h.snapshot(1, 6 * MINUTE);
    }

    RecordedReports soon = new RecordedReports();
    try (var h = harness(soon, ReportGauges::keyOf, 1, 0)) {
      h.setProcessingTime(7 * MINUTE);
      h.initializeState(checkpoint);
      h.open();
      assertThat(soon.recorder.value("feature=x/drift.drifted")).isEqualTo(1);
      h.setProcessingTime(8 * MINUTE);
      assertNoVerdict(soon.recorder, "x", 60.0);
    }

    RecordedReports late = new RecordedReports();
    try (var h = harness(late, ReportGauges::keyOf, 1, 0)) {
      h.setProcessingTime(60 * MINUTE);
      h.initializeState(checkpoint);
      h.open();
      assertNoVerdict(late.recorder, "x", 60.0);
      // and the next checkpoint still holds it, with when it arrived
      checkpoint = h.snapshot(2, 60 * MINUTE);
    }
    RecordedReports again = new RecordedReports();
    try (var h = restored(again, ReportGauges::keyOf, checkpoint, 1, 0)) {
      assertThat(again.recorder.gauges).hasSize(6);
    }
  }

  @Test
  void theOnlineCtrExpiresWhenNoCtrWindowCloses() throws Exception {
    RecordedCtr f = new RecordedCtr();
    try (var h = harness(f, CtrGauges::keyOf, 1, 0)) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(new StreamRecord<>(window("v1", "production", 10_000, 600)));
      h.setProcessingTime(3 * MINUTE - 1);
      assertThat(f.recorder.value("version=v1/variant=production/drift.online.ctr"))
          .isEqualTo(0.06);
      h.setProcessingTime(3 * MINUTE);
      assertThat((Double) f.recorder.value("version=v1/variant=production/drift.online.ctr"))
          .isNaN();
      assertThat(f.recorder.value("version=v1/variant=production/drift.online.impressions"))
          .isEqualTo(0L);
    }
  }

  /**
   * The gauges of 1-minute windows, expiring after 3, where a report can arrive in the middle of a
   * gauge's read: after it found no latest report of its feature, before it looks for a blank one.
   */
  static final class ReportArrivingMidRead extends ReportGauges {
    final transient Recorder recorder = new Recorder();
    transient Report arriving;

    ReportArrivingMidRead() {
      super(Duration.ofMinutes(1), 3);
    }

    @Override
    MetricGroup metrics() {
      return recorder;
    }

    @Override
    Report expired(String key) {
      if (arriving != null) {
        Report r = arriving;
        arriving = null;
        filter(r); // what the task thread does with it, as in the job
      }
      return super.expired(key);
    }
  }

  /**
   * A gauge of an expired feature read while a new report of it arrives (on the metric reporter's
   * thread, the task thread's work in between) reads the new report: it found the feature in
   * neither map and threw a NullPointerException into the reporter.
   */
  @Test
  void aGaugeReadWhileAnExpiredFeatureReportsAgainReadsTheNewReport() throws Exception {
    ReportArrivingMidRead f = new ReportArrivingMidRead();
    try (var h = harness(f, ReportGauges::keyOf, 1, 0)) {
      h.open();
      Recorder g = f.recorder;
      h.processElement(new StreamRecord<>(minute("x", 0.30, true, 1)));
      h.processElement(new StreamRecord<>(minute("y", 0.40, true, 1)));
      for (int m = 2; m <= 4; m++) {
        h.processElement(new StreamRecord<>(minute("x", 0.30, true, m)));
      }
      assertNoVerdict(g, "y", 60.0); // three windows without y: expired

      f.arriving = minute("y", 0.05, false, 5);
      assertThat(g.value("feature=y/drift.psi")).isEqualTo(0.05);
      assertThat(f.arriving).as("the report arrived during the read").isNull();
      assertThat(g.value("feature=y/drift.n")).isEqualTo(900L);
    }
  }

  /**
   * The KS gauge reads its report once: the feature can expire between two reads of the latest
   * report (the task thread swaps it for a blank one without a KS statistic), and a gauge that read
   * the statistic's presence from the first and its value from the second threw a
   * NullPointerException into the reporter.
   */
  @Test
  void theKsGaugeReadsItsReportOnce() {
    Report withKs = minute("x", 0.30, true, 1);
    withKs.ksStatistic = 0.12;
    Report expired = new ReportGauges(Duration.ofMinutes(1), 3).blank(withKs);
    assertThat(expired.ksStatistic).isNull();
    // the group's name, then the gauge's reads: the report, then (expired) its blank
    java.util.Iterator<Report> reads = java.util.List.of(withKs, withKs, expired).iterator();
    Recorder g = new Recorder();
    new ReportGauges(Duration.ofMinutes(1), 3).register(g, reads::next);
    assertThat(g.value("feature=x/drift.ks")).isEqualTo(0.12);
  }
}
