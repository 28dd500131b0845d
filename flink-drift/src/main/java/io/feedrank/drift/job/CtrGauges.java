package io.feedrank.drift.job;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.metrics.Gauge;

/**
 * Publishes the latest online CTR window of each model version and variant as Flink gauges ({@code
 * drift.online.ctr}, {@code drift.online.impressions}, grouped by {@code version} and {@code
 * variant}), which the Prometheus reporter exports; lets nothing through.
 */
final class CtrGauges extends RichFilterFunction<OnlineCtr.Window> {
  private transient Map<String, OnlineCtr.Window> latest;

  @Override
  public boolean filter(OnlineCtr.Window w) {
    if (latest == null) {
      latest = new HashMap<>();
    }
    String key = w.modelVersion + "|" + w.variant;
    if (!latest.containsKey(key)) {
      var group =
          getRuntimeContext()
              .getMetricGroup()
              .addGroup("version", w.modelVersion)
              .addGroup("variant", w.variant);
      group.gauge("drift.online.ctr", (Gauge<Double>) () -> latest.get(key).ctr);
      group.gauge("drift.online.impressions", (Gauge<Long>) () -> latest.get(key).impressions);
    }
    latest.put(key, w);
    return false;
  }
}
