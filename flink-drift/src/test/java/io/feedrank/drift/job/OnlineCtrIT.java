package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.drift.LocalFlink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Online CTR per variant on a MiniCluster, against a direct count of the same data; and the
 * PERFORMANCE_DROP decision made from it.
 */
class OnlineCtrIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(LocalFlink.loopback())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  static final long MIN = 60_000;

  @Test
  void ctrPerVariantEqualsADirectCountOfAttributedImpressions() throws Exception {
    Random r = new Random(3);
    List<OnlineCtr.Served> served = new ArrayList<>();
    List<OnlineCtr.Engaged> engaged = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      OnlineCtr.Served s = new OnlineCtr.Served();
      s.requestId = "r" + i;
      s.time = i * 200L; // 10 minutes of requests
      s.variant = r.nextInt(4) == 0 ? "staging" : "production";
      s.modelVersion = s.variant.equals("staging") ? "v2" : "v1";
      served.add(s);
      double ctr = s.variant.equals("staging") ? 0.2 : 0.1;
      for (int k = 0; k < 3; k++) {
        OnlineCtr.Engaged e = new OnlineCtr.Engaged();
        e.requestId = s.requestId;
        // most impressions within the 2-minute attribution window, some after it
        e.time = s.time + (long) (r.nextDouble() * 3 * MIN);
        e.click = r.nextDouble() < ctr;
        engaged.add(e);
      }
    }
    // an impression naming a request nobody served is not attributed
    OnlineCtr.Engaged stray = new OnlineCtr.Engaged();
    stray.requestId = "unknown";
    stray.time = 1000;
    stray.click = true;
    engaged.add(stray);

    // the direct count: attributed if within [served, served + 2 min], window of the impression
    Map<String, long[]> expected = new HashMap<>();
    Map<String, OnlineCtr.Served> byId = new HashMap<>();
    served.forEach(s -> byId.put(s.requestId, s));
    for (OnlineCtr.Engaged e : engaged) {
      OnlineCtr.Served s = byId.get(e.requestId);
      if (s == null || e.time < s.time || e.time > s.time + 2 * MIN) {
        continue;
      }
      long window = Math.max(e.time, s.time) / (5 * MIN) * (5 * MIN);
      long[] c =
          expected.computeIfAbsent(
              s.modelVersion + "|" + s.variant + "|" + window, k -> new long[2]);
      c[0]++;
      c[1] += e.click ? 1 : 0;
    }

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataStream<OnlineCtr.Served> s =
        env.fromData(served)
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<OnlineCtr.Served>forBoundedOutOfOrderness(Duration.ofMinutes(5))
                    .withTimestampAssigner((x, ts) -> x.time));
    DataStream<OnlineCtr.Engaged> e =
        env.fromData(engaged)
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<OnlineCtr.Engaged>forBoundedOutOfOrderness(Duration.ofMinutes(5))
                    .withTimestampAssigner((x, ts) -> x.time));
    List<OnlineCtr.Window> got = new ArrayList<>();
    OnlineCtr.build(s, e, Duration.ofMinutes(2), Duration.ofMinutes(5))
        .executeAndCollect()
        .forEachRemaining(got::add);

    Map<String, long[]> actual = new HashMap<>();
    for (OnlineCtr.Window w : got) {
      actual.put(
          w.modelVersion + "|" + w.variant + "|" + w.windowStart,
          new long[] {w.impressions, w.clicks});
      assertThat(w.ctr).isEqualTo((double) w.clicks / w.impressions);
    }
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((k, c) -> assertThat(actual.get(k)).as(k).containsExactly(c[0], c[1]));
    long stagingImpressions =
        got.stream().filter(w -> w.variant.equals("staging")).mapToLong(w -> w.impressions).sum();
    long stagingClicks =
        got.stream().filter(w -> w.variant.equals("staging")).mapToLong(w -> w.clicks).sum();
    System.out.printf(
        "staging CTR %.3f over %d impressions%n",
        (double) stagingClicks / stagingImpressions, stagingImpressions);
  }

  /**
   * Through the whole path (the attribution join, the CTR windows, the decision against the
   * registry): production v1 at 6% CTR for four 5-minute windows, then 3%; the A/B share's v2 at 1%
   * throughout. Baseline: windows 0–2 (216 clicks of 3,600); window 3 is not low; windows 4 and 5
   * are (36 of 1,200 each: 50% down, one-sided p = 2.7e-5 by scipy's chi2_contingency), so one
   * command at the end of window 5 and none after.
   */
  @Test
  void aProductionCtrThatDropsIssuesOnePerformanceDropCommand() throws Exception {
    List<OnlineCtr.Served> served = new ArrayList<>();
    List<OnlineCtr.Engaged> engaged = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      int productionClicks = w < 4 ? 72 : 36;
      for (int j = 0; j < 200; j++) {
        for (String variant : List.of("production", "staging")) {
          OnlineCtr.Served s = new OnlineCtr.Served();
          s.requestId = variant + "-" + w + "-" + j;
          s.time = w * 5 * MIN + j * 1_000L;
          s.variant = variant;
          s.modelVersion = variant.equals("production") ? "v1" : "v2";
          served.add(s);
          for (int k = 0; k < 6; k++) {
            OnlineCtr.Engaged e = new OnlineCtr.Engaged();
            e.requestId = s.requestId;
            e.time = s.time + 10_000; // in the same window
            int n = j * 6 + k; // the impression's index in its window
            e.click = variant.equals("production") ? n < productionClicks : n < 12;
            engaged.add(e);
          }
        }
      }
    }
    ServingReference v1 = new ServingReference();
    v1.modelName = "m";
    v1.version = "v1";
    v1.stage = "PRODUCTION";
    v1.updatedAt = 1;

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataStream<OnlineCtr.Window> ctr =
        OnlineCtr.build(
            env.fromData(served)
                .assignTimestampsAndWatermarks(
                    WatermarkStrategy.<OnlineCtr.Served>forMonotonousTimestamps()
                        .withTimestampAssigner((x, ts) -> x.time)),
            env.fromData(engaged)
                .assignTimestampsAndWatermarks(
                    WatermarkStrategy.<OnlineCtr.Engaged>forBoundedOutOfOrderness(
                            Duration.ofSeconds(30))
                        .withTimestampAssigner((x, ts) -> x.time)),
            Duration.ofMinutes(2),
            Duration.ofMinutes(5));
    DriftJob.Settings settings =
        new DriftJob.Settings(
            "m",
            Duration.ofMinutes(5),
            DriftThresholdsConfig.defaults(),
            2,
            500,
            Duration.ZERO,
            0,
            Duration.ZERO);
    List<Command> got = new ArrayList<>();
    DriftJob.performanceDrops(ctr, env.fromData(v1), settings, new DriftJob.CtrDrop(0.2, 3, 1_000))
        .executeAndCollect()
        .forEachRemaining(got::add);

    assertThat(got)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason).isEqualTo("PERFORMANCE_DROP");
              assertThat(c.referenceVersion).isEqualTo("v1");
              assertThat(c.issuedAt).isEqualTo(6 * 5 * MIN);
              assertThat(c.message).contains("baseline of 0.0600", "0.0300 over 1200 impressions");
            });
  }
}
