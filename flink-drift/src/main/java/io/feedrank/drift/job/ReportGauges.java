package io.feedrank.drift.job;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.metrics.Gauge;

/**
 * Publishes each feature's latest drift report as Flink gauges grouped by {@code feature} ({@code
 * drift.psi}, {@code drift.ks}, {@code drift.n}, {@code drift.sample.size}, {@code drift.drifted}
 * as 0 or 1, {@code drift.window.end} in epoch seconds), for dashboards of PSI / KS over time; lets
 * nothing through.
 */
final class ReportGauges extends RichFilterFunction<Report> {
  private transient Map<String, Report> latest;

  @Override
  public boolean filter(Report r) {
    if (latest == null) {
      latest = new HashMap<>();
    }
    String f = r.feature;
    if (!latest.containsKey(f)) {
      var group = getRuntimeContext().getMetricGroup().addGroup("feature", f);
      group.gauge("drift.psi", (Gauge<Double>) () -> latest.get(f).psi);
      group.gauge(
          "drift.ks",
          (Gauge<Double>)
              () -> latest.get(f).ksStatistic == null ? Double.NaN : latest.get(f).ksStatistic);
      group.gauge("drift.n", (Gauge<Long>) () -> latest.get(f).n);
      group.gauge("drift.sample.size", (Gauge<Long>) () -> latest.get(f).sampleSize);
      group.gauge("drift.drifted", (Gauge<Integer>) () -> latest.get(f).drifted ? 1 : 0);
      group.gauge("drift.window.end", (Gauge<Double>) () -> latest.get(f).windowEnd / 1000.0);
    }
    latest.put(f, r);
    return false;
  }
}
