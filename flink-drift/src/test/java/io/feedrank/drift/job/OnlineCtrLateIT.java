package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.drift.LocalFlink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.NettyShuffleEnvironmentOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Responses and impressions that reach the attribution join behind its watermark can no longer be
 * matched: they are dropped, and counted, on a MiniCluster. They once went uncounted, so an online
 * CTR could fall short of what was served with nothing to show for it.
 */
class OnlineCtrLateIT {
  static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(1)
              .setConfiguration(METRICS.addToConfiguration(quickPartitionRequests()))
              .build());

  static final long MIN = 60_000;

  /**
   * An input channel whose producer is not registered yet asks again after a backoff (100 ms, then
   * doubling): kept short, so that neither of the join's inputs starts long after the other.
   */
  static Configuration quickPartitionRequests() {
    Configuration c = LocalFlink.loopback();
    c.set(NettyShuffleEnvironmentOptions.NETWORK_REQUEST_BACKOFF_INITIAL, 5);
    c.set(NettyShuffleEnvironmentOptions.NETWORK_REQUEST_BACKOFF_MAX, 20);
    return c;
  }

  /** A response or an impression, from one source, so both sides share its watermarks. */
  public static class Either {
    public OnlineCtr.Served served;
    public OnlineCtr.Engaged engaged;

    public Either() {}

    long time() {
      return served != null ? served.time : engaged.time;
    }
  }

  /** What the source sends, in order (a static field: the generator captures nothing). */
  static final List<Either> RECORDS = records();

  private static List<Either> records() {
    List<Either> records = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      long t = i * 6_000L; // an hour of responses, each with one impression 1 s later
      records.add(served("r" + i, t));
      records.add(engaged("r" + i, t + 1_000));
      if (i == 400) {
        // 40 minutes in: a response of minute 1 and two impressions of minute 2, long behind
        records.add(served("late", MIN));
        records.add(engaged("r10", 2 * MIN));
        records.add(engaged("r11", 2 * MIN));
      }
    }
    return records;
  }

  @Test
  void lateResponsesAndImpressionsAreCounted() throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    env.setBufferTimeout(0);
    // A record is late when it is behind the join's watermark: the lower of its two inputs'. If
    // one input starts reading after the source has sent everything (its channel's first request
    // backing off), the other's late records are ahead of that watermark and not late. The test
    // failed once when the whole list was sent at once (the late response not counted), which this
    // would explain; at 1,000 records a second, the late ones come 0.8 s in.
    DataGeneratorSource<Either> source =
        new DataGeneratorSource<>(
            i -> RECORDS.get((int) (long) i),
            RECORDS.size(),
            RateLimiterStrategy.perSecond(1_000),
            TypeInformation.of(Either.class));
    DataStream<Either> all =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "responses and impressions")
            .assignTimestampsAndWatermarks(
                WatermarkEveryRecord.<Either>strategy((x, ts) -> x.time()));
    DataStream<OnlineCtr.Served> served =
        all.filter(x -> x.served != null)
            .name("responses only")
            .map(x -> x.served)
            .name("responses")
            .returns(OnlineCtr.Served.class);
    DataStream<OnlineCtr.Engaged> engaged =
        all.filter(x -> x.engaged != null)
            .name("impressions only")
            .map(x -> x.engaged)
            .name("impressions")
            .returns(OnlineCtr.Engaged.class);
    OnlineCtr.build(served, engaged, Duration.ofMinutes(2), Duration.ofMinutes(5))
        .sinkTo(new DiscardingSink<>());
    JobID job = env.execute().getJobID();

    assertThat(count(job, "drift.ctr.late.responses")).isEqualTo(1);
    assertThat(count(job, "drift.ctr.late.impressions")).isEqualTo(2);
  }

  private static long count(JobID job, String name) {
    long sum = 0;
    int found = 0;
    for (Map.Entry<String, Metric> e : METRICS.getMetricsByIdentifiers(job).entrySet()) {
      if (e.getKey().endsWith("." + name)) {
        sum += ((Counter) e.getValue()).getCount();
        found++;
      }
    }
    assertThat(found).as(name).isPositive();
    return sum;
  }

  private static Either served(String id, long t) {
    Either x = new Either();
    x.served = new OnlineCtr.Served();
    x.served.requestId = id;
    x.served.time = t;
    x.served.modelVersion = "v1";
    x.served.variant = "production";
    return x;
  }

  private static Either engaged(String id, long t) {
    Either x = new Either();
    x.engaged = new OnlineCtr.Engaged();
    x.engaged.requestId = id;
    x.engaged.time = t;
    x.engaged.click = true;
    return x;
  }
}
