package io.feedrank.drift.job;

import java.time.Duration;
import java.util.function.Supplier;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * Publishes the latest online CTR window of each model version and variant as Flink gauges ({@code
 * drift.online.ctr}, {@code drift.online.impressions}, grouped by {@code version} and {@code
 * variant}), which the Prometheus reporter exports; lets nothing through. Runs on the windows keyed
 * by {@link #keyOf}; a restarted job publishes the windows of its checkpoint at once, and the
 * gauges of a version and variant read a NaN CTR and no impressions once they expire (see {@link
 * LatestGauges}).
 */
class CtrGauges extends LatestGauges<OnlineCtr.Window> {
  /**
   * @param window the online CTR windows' length ({@code ctr.window.ms})
   * @param expiryWindows {@code gauge.expiry.windows}
   */
  CtrGauges(Duration window, int expiryWindows) {
    super("latest-ctr-windows", OnlineCtr.Window.class, window, expiryWindows);
  }

  /** The key the windows are partitioned by: version and variant. */
  static String keyOf(OnlineCtr.Window w) {
    return w.modelVersion + "|" + w.variant;
  }

  @Override
  String key(OnlineCtr.Window w) {
    return keyOf(w);
  }

  @Override
  long windowStart(OnlineCtr.Window w) {
    return w.windowStart;
  }

  @Override
  long windowEnd(OnlineCtr.Window w) {
    return w.windowEnd;
  }

  @Override
  OnlineCtr.Window blank(OnlineCtr.Window last) {
    OnlineCtr.Window b = new OnlineCtr.Window();
    b.modelVersion = last.modelVersion;
    b.variant = last.variant;
    b.windowStart = last.windowStart;
    b.windowEnd = last.windowEnd;
    b.ctr = Double.NaN;
    return b;
  }

  @Override
  void register(MetricGroup metrics, Supplier<OnlineCtr.Window> latest) {
    OnlineCtr.Window w = latest.get();
    var group = metrics.addGroup("version", w.modelVersion).addGroup("variant", w.variant);
    group.gauge("drift.online.ctr", (Gauge<Double>) () -> latest.get().ctr);
    group.gauge("drift.online.impressions", (Gauge<Long>) () -> latest.get().impressions);
  }
}
