package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

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

/** Online CTR per variant on a MiniCluster, against a direct count of the same data. */
class OnlineCtrIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
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
}
