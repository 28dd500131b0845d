package io.feedrank.drift.job;

import java.time.Duration;
import java.util.Arrays;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.co.ProcessJoinFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Online CTR per model version and variant: every impression that names the request that ranked it
 * (an interaction with a {@code request_id}) is attributed to that response if it happened within
 * {@code attribution} after it (an interval join on request id, event time), then counted per
 * (version, variant) and event-time window: impressions, clicks, CTR, and of them those of fallback
 * rankings. The version and variant are the ones the request was leased and assigned (intention to
 * treat, see {@link io.feedrank.drift.io.ServedResponses}): a staging model that failed counts
 * against staging, with a popularity ranking. Both inputs must carry event-time timestamps and
 * watermarks. Responses and impressions that reach the join behind its watermark cannot be matched
 * any more: they are dropped and counted ({@code drift.ctr.late.responses}, {@code
 * drift.ctr.late.impressions}).
 */
public final class OnlineCtr {
  static final OutputTag<Served> LATE_RESPONSES = new OutputTag<>("late-responses") {};
  static final OutputTag<Engaged> LATE_IMPRESSIONS = new OutputTag<>("late-impressions") {};

  private OnlineCtr() {}

  /**
   * A response of the ranker: the model version the request was leased and the arm it was assigned
   * to, why a fallback ranked it instead (null: the model did, with its features), when.
   */
  public static class Served {
    public String requestId;
    public String modelVersion;
    public String variant;
    public String fallbackReason;
    public long time;

    public Served() {}
  }

  /** An impression that names its request, with its outcome. */
  public static class Engaged {
    public String requestId;
    public boolean click;
    public long time;

    public Engaged() {}
  }

  /** One impression attributed to a version and variant. */
  public static class Attributed {
    public String key;
    public String modelVersion;
    public String variant;
    public boolean fallback;
    public boolean click;
    public long time;

    public Attributed() {}
  }

  /**
   * Impressions and clicks of one version and variant in one window, and how many of them were of
   * fallback rankings (0 in state of a job before them).
   */
  public static class Window {
    public String modelVersion;
    public String variant;
    public long windowStart;
    public long windowEnd;
    public long impressions;
    public long clicks;
    public double ctr;
    public long fallbackImpressions;
    public long fallbackClicks;

    public Window() {}
  }

  public static DataStream<Window> build(
      DataStream<Served> served,
      DataStream<Engaged> engaged,
      Duration attribution,
      Duration window) {
    SingleOutputStreamOperator<Attributed> attributed =
        served
            .keyBy(s -> s.requestId)
            .intervalJoin(engaged.keyBy(e -> e.requestId))
            .between(Duration.ZERO, attribution)
            .sideOutputLeftLateData(LATE_RESPONSES)
            .sideOutputRightLateData(LATE_IMPRESSIONS)
            .process(new Attribute())
            .name("attribution")
            .uid("online-ctr-attribution");
    attributed
        .getSideOutput(LATE_RESPONSES)
        .filter(new CountDropped<>("drift.ctr.late.responses"))
        .name("late responses")
        .uid("online-ctr-late-responses");
    attributed
        .getSideOutput(LATE_IMPRESSIONS)
        .filter(new CountDropped<>("drift.ctr.late.impressions"))
        .name("late impressions")
        .uid("online-ctr-late-impressions");
    // the join stamps each pair with the later of its two timestamps: the impression's
    return attributed
        .keyBy(a -> a.key)
        .window(TumblingEventTimeWindows.of(window))
        .aggregate(new Count(), new Emit())
        .name("online ctr")
        .uid("online-ctr-windows");
  }

  /** Counts what it is given as {@code metric} and passes nothing on. */
  static final class CountDropped<T> extends RichFilterFunction<T> {
    private final String metric;
    private transient Counter dropped;

    CountDropped(String metric) {
      this.metric = metric;
    }

    @Override
    public void open(OpenContext context) {
      dropped = getRuntimeContext().getMetricGroup().counter(metric);
    }

    @Override
    public boolean filter(T value) {
      dropped.inc();
      return false;
    }
  }

  static final class Attribute extends ProcessJoinFunction<Served, Engaged, Attributed> {
    @Override
    public void processElement(Served s, Engaged e, Context ctx, Collector<Attributed> out) {
      Attributed a = new Attributed();
      a.modelVersion = s.modelVersion;
      a.variant = s.variant;
      a.fallback = s.fallbackReason != null;
      a.key = s.modelVersion + "|" + s.variant;
      a.click = e.click;
      a.time = e.time;
      out.collect(a);
    }
  }

  /**
   * Counts a window's impressions and clicks, and those of fallback rankings: four longs. A window
   * restored from the state of a build before the fallback counts holds two (its array is restored
   * at the length it was saved with): it grows at its next impression, and reads as no fallbacks
   * until then ({@link #at}), so a stateful upgrade does not fail the job on its open windows.
   */
  static final class Count implements AggregateFunction<Attributed, long[], long[]> {
    static final int LENGTH = 4;

    @Override
    public long[] createAccumulator() {
      return new long[LENGTH]; // impressions, clicks, and those of fallback rankings
    }

    @Override
    public long[] add(Attributed a, long[] acc) {
      if (acc.length < LENGTH) {
        acc = Arrays.copyOf(acc, LENGTH);
      }
      int click = a.click ? 1 : 0;
      acc[0]++;
      acc[1] += click;
      if (a.fallback) {
        acc[2]++;
        acc[3] += click;
      }
      return acc;
    }

    @Override
    public long[] getResult(long[] acc) {
      return acc;
    }

    @Override
    public long[] merge(long[] a, long[] b) {
      long[] sum = new long[LENGTH];
      for (int i = 0; i < LENGTH; i++) {
        sum[i] = at(a, i) + at(b, i);
      }
      return sum;
    }

    /** Count {@code i} of {@code acc}: 0 past the end of an accumulator of an earlier build. */
    static long at(long[] acc, int i) {
      return i < acc.length ? acc[i] : 0;
    }
  }

  static final class Emit extends ProcessWindowFunction<long[], Window, String, TimeWindow> {
    @Override
    public void process(String key, Context ctx, Iterable<long[]> counts, Collector<Window> out) {
      long[] c = counts.iterator().next();
      int bar = key.lastIndexOf('|');
      Window w = new Window();
      w.modelVersion = key.substring(0, bar);
      w.variant = key.substring(bar + 1);
      w.windowStart = ctx.window().getStart();
      w.windowEnd = ctx.window().getEnd();
      w.impressions = c[0];
      w.clicks = c[1];
      w.fallbackImpressions = Count.at(c, 2);
      w.fallbackClicks = Count.at(c, 3);
      w.ctr = c[0] == 0 ? 0 : (double) c[1] / c[0];
      out.collect(w);
    }
  }
}
