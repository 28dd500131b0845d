package io.feedrank.drift.job;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** The per-feature window: values into a {@link SketchAccumulator}, out as a summary. */
final class WindowAggregation {
  private WindowAggregation() {}

  static final class Aggregate
      implements AggregateFunction<FeatureValue, SketchAccumulator, SketchAccumulator> {
    @Override
    public SketchAccumulator createAccumulator() {
      return new SketchAccumulator();
    }

    @Override
    public SketchAccumulator add(FeatureValue value, SketchAccumulator acc) {
      acc.add(value);
      return acc;
    }

    @Override
    public SketchAccumulator getResult(SketchAccumulator acc) {
      acc.fold();
      return acc;
    }

    @Override
    public SketchAccumulator merge(SketchAccumulator a, SketchAccumulator b) {
      return a.merge(b);
    }
  }

  static final class Summarize
      extends ProcessWindowFunction<SketchAccumulator, WindowSummary, String, TimeWindow> {
    @Override
    public void process(
        String feature,
        Context ctx,
        Iterable<SketchAccumulator> accs,
        Collector<WindowSummary> out) {
      for (SketchAccumulator acc : accs) {
        WindowSummary s = new WindowSummary();
        s.feature = feature;
        s.kind = acc.kind;
        s.windowStart = ctx.window().getStart();
        s.windowEnd = ctx.window().getEnd();
        s.n = acc.n;
        s.sampleSize = acc.units;
        s.sum = acc.sum;
        s.sketch = acc.sketch;
        s.counts = acc.counts;
        out.collect(s);
      }
    }
  }
}
