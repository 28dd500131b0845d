package io.feedrank.drift.job;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.OutputTag;

/**
 * The drift job as a function of its inputs: feature and score observations (timestamps and
 * watermarks assigned) and the registry records, to drift reports, retrain commands and alerts.
 * {@code DriftMain} wires Kafka around it; the tests wire bounded sources.
 *
 * <p>Per feature, event-time tumbling windows of {@code window} fold the values into a KLL sketch
 * (or category counts); late values (behind the watermark) are counted as {@code drift.values.late}
 * and dropped. Each window summary is set against the serving model's reference profile ({@link
 * DriftEvaluator}); reports go to the decision function per model ({@link RetrainDecider}).
 */
public final class DriftJob {
  private DriftJob() {}

  /** The default of {@code gauge.expiry.windows}: see {@link LatestGauges}. */
  public static final int DEFAULT_GAUGE_EXPIRY_WINDOWS = 3;

  /**
   * What the job needs to know. {@code gaugeExpiryWindows}: after how many windows without one a
   * feature's gauges read no verdict (see {@link LatestGauges}).
   */
  public record Settings(
      String modelName,
      Duration window,
      DriftThresholdsConfig thresholds,
      int persistence,
      long minSample,
      Duration cooldown,
      long volumeThreshold,
      Duration schedulePeriod,
      int gaugeExpiryWindows)
      implements java.io.Serializable {

    /**
     * With the default {@code gaugeExpiryWindows}, {@value DriftJob#DEFAULT_GAUGE_EXPIRY_WINDOWS}.
     */
    public Settings(
        String modelName,
        Duration window,
        DriftThresholdsConfig thresholds,
        int persistence,
        long minSample,
        Duration cooldown,
        long volumeThreshold,
        Duration schedulePeriod) {
      this(
          modelName,
          window,
          thresholds,
          persistence,
          minSample,
          cooldown,
          volumeThreshold,
          schedulePeriod,
          DEFAULT_GAUGE_EXPIRY_WINDOWS);
    }
  }

  /**
   * When the production version's online CTR counts as dropped: {@code dropFraction} below its
   * baseline of its first {@code baselineWindows} windows, each of {@code minImpressions} or more
   * (see {@link CtrDropCommands}).
   */
  public record CtrDrop(double dropFraction, int baselineWindows, long minImpressions)
      implements java.io.Serializable {}

  /** The job's outputs. */
  public record Outputs(
      DataStream<Report> reports, DataStream<Command> commands, DataStream<AlertEvent> alerts) {}

  public static Outputs build(
      DataStream<FeatureValue> values, DataStream<ServingReference> registry, Settings s) {
    OutputTag<FeatureValue> late = new OutputTag<>("late-values") {};
    SingleOutputStreamOperator<WindowSummary> summaries =
        values
            .filter(v -> !FeatureValue.EXAMPLE.equals(v.feature))
            .keyBy(v -> v.feature)
            .window(TumblingEventTimeWindows.of(s.window()))
            .sideOutputLateData(late)
            .aggregate(new WindowAggregation.Aggregate(), new WindowAggregation.Summarize())
            .name("windows")
            .uid("drift-windows");
    DataStream<WindowSummary> lateCounts =
        summaries.getSideOutput(late).map(new CountLate()).name("late values");
    BroadcastStream<ServingReference> references = registry.broadcast(DriftEvaluator.REGISTRY);
    SingleOutputStreamOperator<Report> reports =
        summaries
            .union(lateCounts)
            .keyBy(x -> x.feature)
            .connect(references)
            .process(new DriftEvaluator(s.modelName(), s.thresholds()))
            .name("drift")
            .uid("drift-evaluation");
    // one subtask sees every feature: a feature is expired when the others have newer windows
    // (LatestGauges), which a subtask holding it alone would never see
    reports
        .keyBy(ReportGauges::keyOf)
        .filter(new ReportGauges(s.window(), s.gaugeExpiryWindows()))
        .setParallelism(1)
        .name("drift gauges")
        .uid("drift-gauges");
    SingleOutputStreamOperator<Command> commands =
        reports
            .keyBy(r -> r.modelName)
            .process(new RetrainDecider(s.persistence(), s.minSample(), s.cooldown()))
            .name("decisions")
            .uid("drift-decisions");
    String model = s.modelName();
    DataStream<Command> routine =
        values
            .filter(v -> FeatureValue.EXAMPLE.equals(v.feature))
            .map(v -> v.eventTime)
            .returns(Long.class)
            .keyBy(t -> model)
            .connect(registry.filter(r -> model.equals(r.modelName)).keyBy(r -> r.modelName))
            .process(new RoutineCommands(s.volumeThreshold(), s.schedulePeriod().toMillis()))
            .name("routine commands")
            .uid("routine-commands");
    return new Outputs(
        reports, commands.union(routine), commands.getSideOutput(RetrainDecider.ALERTS));
  }

  /**
   * The registry stream's watermarks: none, and the stream idle (from its first watermark interval,
   * 200 ms by default), so that it does not hold back the event time of the streams it is connected
   * to. The decisions wait for the watermark of the evaluator's reports ({@link RetrainDecider});
   * with {@code noWatermarks()} the registry input, which never ends, would keep that watermark at
   * its lowest for as long as the job runs. Idle, it is left out, and the reports' watermark is the
   * windows'.
   */
  public static <T> WatermarkStrategy<T> registryWatermarks() {
    return WatermarkStrategy.forGenerator(ctx -> new AlwaysIdle<>());
  }

  /** Marks its output idle and emits no watermark: an output is active again only by one. */
  static final class AlwaysIdle<T> implements WatermarkGenerator<T> {
    @Override
    public void onEvent(T event, long timestamp, WatermarkOutput output) {
      output.markIdle();
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      output.markIdle();
    }
  }

  /**
   * Online CTR per version and variant, exported as gauges (which expire after {@code
   * gaugeExpiryWindows} windows without one, see {@link LatestGauges}); also returned for a sink.
   */
  public static DataStream<OnlineCtr.Window> onlineCtr(
      DataStream<OnlineCtr.Served> served,
      DataStream<OnlineCtr.Engaged> engaged,
      Duration attribution,
      Duration window,
      int gaugeExpiryWindows) {
    DataStream<OnlineCtr.Window> ctr = OnlineCtr.build(served, engaged, attribution, window);
    ctr.keyBy(CtrGauges::keyOf)
        .filter(new CtrGauges(window, gaugeExpiryWindows))
        .setParallelism(1) // one subtask sees every version and variant (see the drift gauges)
        .name("online ctr gauges")
        .uid("online-ctr-gauges");
    return ctr;
  }

  /**
   * {@code PERFORMANCE_DROP} commands from the online CTR windows and the registry records (see
   * {@link CtrDropCommands}); the drop must persist for {@code s.persistence()} windows and be
   * significant at {@code s.thresholds().pValue()}. Their alerts are the side output {@link
   * RetrainDecider#ALERTS}.
   */
  public static SingleOutputStreamOperator<Command> performanceDrops(
      DataStream<OnlineCtr.Window> ctr,
      DataStream<ServingReference> registry,
      Settings s,
      CtrDrop drop) {
    String model = s.modelName();
    return ctr.keyBy(w -> model)
        .connect(registry.filter(r -> model.equals(r.modelName)).keyBy(r -> r.modelName))
        .process(
            new CtrDropCommands(
                drop.dropFraction(),
                drop.baselineWindows(),
                drop.minImpressions(),
                s.persistence(),
                s.thresholds().pValue(),
                s.gaugeExpiryWindows()))
        .name("performance drops")
        .uid("ctr-drop-commands");
  }

  /**
   * Counts a late record's values as a metric ({@code drift.values.late}) and passes them on as a
   * count for its feature's next report.
   */
  static final class CountLate extends RichMapFunction<FeatureValue, WindowSummary> {
    private transient Counter late;

    @Override
    public void open(OpenContext ctx) {
      late = getRuntimeContext().getMetricGroup().counter("drift.values.late");
    }

    @Override
    public WindowSummary map(FeatureValue v) {
      late.inc(v.count());
      return WindowSummary.late(v.feature, v.kind, v.count());
    }
  }
}
