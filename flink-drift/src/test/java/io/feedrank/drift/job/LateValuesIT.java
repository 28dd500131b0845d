package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.drift.LocalFlink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Values behind the watermark on a MiniCluster: dropped from their (closed) window, counted, and
 * reported with their feature's next report as {@code lateEvents}.
 */
class LateValuesIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(LocalFlink.loopback())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(1)
              .build());

  static final long W = 60_000;

  @Test
  void lateValuesAreDroppedFromTheirWindowAndReportedLater() throws Exception {
    List<FeatureValue> values = new ArrayList<>();
    for (int w = 0; w < 30; w++) {
      for (int i = 0; i < 100; i++) {
        values.add(FeatureValue.numeric("x", "NUMERIC", 1 + i, w * W + i * (W / 100)));
      }
      if (w == 5) {
        // three values of window 1, long closed: one, then two in one record (as a response's
        // scores come), which count as two
        values.add(FeatureValue.numeric("x", "NUMERIC", 1_000, W));
        values.add(FeatureValue.scores("x", new double[] {1_000, 1_000}, W + 1));
      }
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    DriftJob.Outputs out =
        DriftJob.build(
            env.fromData(values)
                .assignTimestampsAndWatermarks(
                    WatermarkEveryRecord.<FeatureValue>strategy((v, ts) -> v.eventTime)),
            env.fromData(DriftEvaluatorTest.reference("m", "v1", "PRODUCTION", 1, 1, 100)),
            new DriftJob.Settings(
                "m",
                Duration.ofMillis(W),
                DriftThresholdsConfig.defaults(),
                2,
                50,
                Duration.ofHours(1),
                0,
                Duration.ZERO));
    List<Report> reports = new ArrayList<>();
    out.reports().executeAndCollect().forEachRemaining(reports::add);

    assertThat(reports).hasSize(30);
    // window 1 holds its own 100 values only: the three late ones were not added to it
    assertThat(reports)
        .filteredOn(r -> r.windowStart == W)
        .singleElement()
        .satisfies(r -> assertThat(r.n).isEqualTo(100));
    // each counted once, with some later report (the counts travel on their own edge, so which
    // report carries them depends on how the two edges interleave)
    assertThat(reports.stream().mapToLong(r -> r.lateEvents).sum()).isEqualTo(3);
  }
}
