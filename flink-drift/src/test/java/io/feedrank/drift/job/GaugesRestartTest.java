package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.StreamFilter;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The drift job's gauges across a restart, in Flink's keyed harness: a job restored from a
 * checkpoint publishes the latest report of each feature and the latest online-CTR window of each
 * version and variant before any new element arrives, each in exactly one subtask when the job
 * comes back at another parallelism.
 */
class GaugesRestartTest {
  static final int MAX_PARALLELISM = 128;

  /** The gauges a function registers, by path ({@code key=value/…/name}). */
  static final class Recorder extends UnregisteredMetricsGroup {
    final Map<String, Gauge<?>> gauges;
    final String path;

    Recorder() {
      this(new TreeMap<>(), "");
    }

    private Recorder(Map<String, Gauge<?>> gauges, String path) {
      this.gauges = gauges;
      this.path = path;
    }

    @Override
    public MetricGroup addGroup(String key, String value) {
      return new Recorder(gauges, path + key + "=" + value + "/");
    }

    @Override
    public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
      gauges.put(path + name, gauge);
      return gauge;
    }

    Object value(String name) {
      assertThat(gauges).containsKey(name);
      return gauges.get(name).getValue();
    }
  }

  /** The gauges of 1-minute windows, expiring after 3 (of those, or of processing time). */
  static final class RecordedReports extends ReportGauges {
    final transient Recorder recorder = new Recorder();

    RecordedReports() {
      super(Duration.ofMinutes(1), 3);
    }

    @Override
    MetricGroup metrics() {
      return recorder;
    }
  }

  static final class RecordedCtr extends CtrGauges {
    final transient Recorder recorder = new Recorder();

    RecordedCtr() {
      super(Duration.ofMinutes(1), 3);
    }

    @Override
    MetricGroup metrics() {
      return recorder;
    }
  }

  static <T> KeyedOneInputStreamOperatorTestHarness<String, T, T> harness(
      LatestGauges<T> f, KeySelector<T, String> key, int parallelism, int subtask)
      throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new StreamFilter<>(f), key, Types.STRING, MAX_PARALLELISM, parallelism, subtask);
  }

  /** A harness of {@code f} restored from {@code state} and opened, before any element. */
  static <T> KeyedOneInputStreamOperatorTestHarness<String, T, T> restored(
      LatestGauges<T> f,
      KeySelector<T, String> key,
      OperatorSubtaskState state,
      int parallelism,
      int subtask)
      throws Exception {
    KeyedOneInputStreamOperatorTestHarness<String, T, T> h = harness(f, key, parallelism, subtask);
    h.initializeState(state);
    h.open();
    return h;
  }

  static Report report(String feature, double psi, long n, boolean drifted, long windowEnd) {
    Report r = new Report();
    r.feature = feature;
    r.kind = "NUMERIC";
    r.psi = psi;
    r.ksStatistic = psi / 2;
    r.n = n;
    r.sampleSize = n;
    r.drifted = drifted;
    r.windowEnd = windowEnd;
    return r;
  }

  @Test
  void aRestoredJobPublishesTheLatestReportOfEachFeatureBeforeAnyNewReport() throws Exception {
    OperatorSubtaskState checkpoint;
    RecordedReports before = new RecordedReports();
    try (var h = harness(before, ReportGauges::keyOf, 1, 0)) {
      h.open();
      h.processElement(new StreamRecord<>(report("user_ctr_7d", 0.05, 900, false, 60_000)));
      h.processElement(new StreamRecord<>(report("item_age_h", 0.31, 1_200, true, 60_000)));
      h.processElement(new StreamRecord<>(report("user_ctr_7d", 0.27, 1_000, true, 120_000)));
      assertThat(h.extractOutputValues()).isEmpty(); // gauges only
      checkpoint = h.snapshot(1, 120_000);
    }

    RecordedReports after = new RecordedReports();
    try (var h = restored(after, ReportGauges::keyOf, checkpoint, 1, 0)) {
      Recorder g = after.recorder;
      // the second report of user_ctr_7d, not the first
      assertThat(g.value("feature=user_ctr_7d/drift.psi")).isEqualTo(0.27);
      assertThat(g.value("feature=user_ctr_7d/drift.ks")).isEqualTo(0.135);
      assertThat(g.value("feature=user_ctr_7d/drift.n")).isEqualTo(1_000L);
      assertThat(g.value("feature=user_ctr_7d/drift.sample.size")).isEqualTo(1_000L);
      assertThat(g.value("feature=user_ctr_7d/drift.drifted")).isEqualTo(1);
      assertThat(g.value("feature=user_ctr_7d/drift.window.end")).isEqualTo(120.0);
      assertThat(g.value("feature=item_age_h/drift.psi")).isEqualTo(0.31);
      assertThat(g.gauges).hasSize(12);

      // and a later report replaces the restored one
      h.processElement(new StreamRecord<>(report("item_age_h", 0.02, 1_500, false, 180_000)));
      assertThat(g.value("feature=item_age_h/drift.psi")).isEqualTo(0.02);
      assertThat(g.value("feature=item_age_h/drift.drifted")).isEqualTo(0);
      assertThat(g.gauges).hasSize(12);
    }
  }

  /** A report of {@code feature} for the minute that ends at {@code minuteEnd} minutes. */
  static Report minute(String feature, double psi, boolean drifted, int minuteEnd) {
    Report r = report(feature, psi, 900, drifted, minuteEnd * 60_000L);
    r.windowStart = (minuteEnd - 1) * 60_000L;
    return r;
  }

  /**
   * A feature without a report for three windows while another reports is expired: its gauges read
   * no sample and nothing drifted (so an alert on them resolves), it is left out of the checkpoint,
   * and a later report of it publishes it again.
   */
  @Test
  void aFeatureNotReportedForThreeWindowsIsExpiredAndLeftOutOfTheCheckpoint() throws Exception {
    OperatorSubtaskState checkpoint;
    RecordedReports f = new RecordedReports();
    try (var h = harness(f, ReportGauges::keyOf, 1, 0)) {
      h.open();
      Recorder g = f.recorder;
      h.processElement(new StreamRecord<>(minute("x", 0.30, true, 1)));
      h.processElement(new StreamRecord<>(minute("y", 0.40, true, 1)));
      h.processElement(new StreamRecord<>(minute("x", 0.31, true, 2)));
      h.processElement(new StreamRecord<>(minute("x", 0.32, true, 3)));
      // two windows without y: it stands
      assertThat(g.value("feature=y/drift.drifted")).isEqualTo(1);
      assertThat(g.value("feature=y/drift.psi")).isEqualTo(0.40);
      h.processElement(new StreamRecord<>(minute("x", 0.33, true, 4)));
      // three: expired
      assertThat(g.value("feature=y/drift.drifted")).isEqualTo(0);
      assertThat(g.value("feature=y/drift.sample.size")).isEqualTo(0L);
      assertThat(g.value("feature=y/drift.n")).isEqualTo(0L);
      assertThat((Double) g.value("feature=y/drift.psi")).isNaN();
      assertThat((Double) g.value("feature=y/drift.ks")).isNaN();
      assertThat(g.value("feature=y/drift.window.end")).isEqualTo(60.0); // when it last reported
      assertThat(g.value("feature=x/drift.psi")).isEqualTo(0.33);
      checkpoint = h.snapshot(1, 0);

      // a report of y brings it back in the same gauges
      h.processElement(new StreamRecord<>(minute("y", 0.05, false, 5)));
      assertThat(g.value("feature=y/drift.psi")).isEqualTo(0.05);
      assertThat(g.value("feature=y/drift.n")).isEqualTo(900L);
      assertThat(g.gauges).hasSize(12);
    }
    RecordedReports after = new RecordedReports();
    try (var h = restored(after, ReportGauges::keyOf, checkpoint, 1, 0)) {
      assertThat(after.recorder.gauges.keySet()).allMatch(k -> k.startsWith("feature=x/"));
      assertThat(after.recorder.gauges).hasSize(6);
    }
  }

  @Test
  void atAnotherParallelismEachFeatureIsPublishedOnceByTheSubtaskThatReceivesIt() throws Exception {
    List<String> features = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
    OperatorSubtaskState checkpoint;
    try (var h = harness(new RecordedReports(), ReportGauges::keyOf, 1, 0)) {
      h.open();
      for (int k = 0; k < features.size(); k++) {
        h.processElement(new StreamRecord<>(report(features.get(k), k / 100.0, 500 + k, false, 0)));
      }
      checkpoint = h.snapshot(1, 0);
    }
    Map<String, Integer> publishedBy = new HashMap<>();
    for (int subtask = 0; subtask < 3; subtask++) {
      RecordedReports f = new RecordedReports();
      OperatorSubtaskState share =
          AbstractStreamOperatorTestHarness.repartitionOperatorState(
              checkpoint, MAX_PARALLELISM, 1, 3, subtask);
      try (var h = restored(f, ReportGauges::keyOf, share, 3, subtask)) {
        for (String name : f.recorder.gauges.keySet()) {
          if (name.endsWith("/drift.psi")) {
            String feature = name.substring("feature=".length(), name.indexOf('/'));
            assertThat(publishedBy.put(feature, subtask)).as(feature + " published twice").isNull();
            assertThat(f.recorder.value(name)).isEqualTo(features.indexOf(feature) / 100.0);
          }
        }
      }
    }
    // each by the subtask that Flink's key-group partitioner (of keyBy) sends its reports to
    publishedBy.forEach(
        (feature, subtask) ->
            assertThat(
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(
                        feature, MAX_PARALLELISM, 3))
                .as(feature)
                .isEqualTo(subtask));
    assertThat(publishedBy.keySet()).containsExactlyInAnyOrderElementsOf(features);
    assertThat(Set.copyOf(publishedBy.values())).hasSizeGreaterThan(1); // spread, not all in one
  }

  @Test
  void aRestoredJobPublishesTheLatestOnlineCtrOfEachVersionAndVariant() throws Exception {
    OperatorSubtaskState checkpoint;
    try (var h = harness(new RecordedCtr(), CtrGauges::keyOf, 1, 0)) {
      h.open();
      h.processElement(new StreamRecord<>(window("v1", "production", 10_000, 600)));
      h.processElement(new StreamRecord<>(window("v2", "staging", 1_000, 80)));
      h.processElement(new StreamRecord<>(window("v1", "production", 12_000, 480)));
      checkpoint = h.snapshot(1, 0);
    }
    RecordedCtr after = new RecordedCtr();
    try (var h = restored(after, CtrGauges::keyOf, checkpoint, 1, 0)) {
      Recorder g = after.recorder;
      assertThat(g.value("version=v1/variant=production/drift.online.ctr")).isEqualTo(0.04);
      assertThat(g.value("version=v1/variant=production/drift.online.impressions"))
          .isEqualTo(12_000L);
      assertThat(g.value("version=v2/variant=staging/drift.online.ctr")).isEqualTo(0.08);
      assertThat(g.gauges).hasSize(4);
    }
  }

  static OnlineCtr.Window window(String version, String variant, long impressions, long clicks) {
    OnlineCtr.Window w = new OnlineCtr.Window();
    w.modelVersion = version;
    w.variant = variant;
    w.impressions = impressions;
    w.clicks = clicks;
    w.ctr = (double) clicks / impressions;
    return w;
  }
}
