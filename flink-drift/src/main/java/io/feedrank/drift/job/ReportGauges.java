package io.feedrank.drift.job;

import java.time.Duration;
import java.util.function.Supplier;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * Publishes each feature's latest drift report as Flink gauges grouped by {@code feature} ({@code
 * drift.psi}, {@code drift.ks}, {@code drift.n}, {@code drift.sample.size}, {@code drift.drifted}
 * as 0 or 1, {@code drift.window.end} in epoch seconds), for dashboards of PSI / KS over time; lets
 * nothing through. Runs on the reports keyed by {@link #key}; a restarted job publishes the reports
 * of its checkpoint at once. A feature without a report for {@code expiryWindows} windows while
 * others report, and every feature once no window has closed for {@code expiryWindows} window
 * lengths of processing time, read no verdict: NaN PSI and KS, no sample, nothing drifted, and the
 * end of the window they last reported on (see {@link LatestGauges}).
 */
class ReportGauges extends LatestGauges<Report> {
  /**
   * @param window the drift windows' length ({@code window.ms})
   * @param expiryWindows {@code gauge.expiry.windows}
   */
  ReportGauges(Duration window, int expiryWindows) {
    super("latest-reports", Report.class, window, expiryWindows);
  }

  /** The key the reports are partitioned by: the feature. */
  static String keyOf(Report r) {
    return r.feature;
  }

  @Override
  String key(Report r) {
    return keyOf(r);
  }

  @Override
  long windowStart(Report r) {
    return r.windowStart;
  }

  @Override
  long windowEnd(Report r) {
    return r.windowEnd;
  }

  @Override
  Report blank(Report last) {
    Report b = new Report();
    b.feature = last.feature;
    b.kind = last.kind;
    b.windowStart = last.windowStart;
    b.windowEnd = last.windowEnd;
    b.psi = Double.NaN;
    return b;
  }

  @Override
  void register(MetricGroup metrics, Supplier<Report> latest) {
    var group = metrics.addGroup("feature", latest.get().feature);
    group.gauge("drift.psi", (Gauge<Double>) () -> latest.get().psi);
    // one read of the latest report: two could see a report with a KS statistic and then, the
    // feature expired in between, a blank one without, whose null the unboxing threw
    group.gauge(
        "drift.ks",
        (Gauge<Double>)
            () -> {
              Double ks = latest.get().ksStatistic;
              return ks == null ? Double.NaN : ks;
            });
    group.gauge("drift.n", (Gauge<Long>) () -> latest.get().n);
    group.gauge("drift.sample.size", (Gauge<Long>) () -> latest.get().sampleSize);
    group.gauge("drift.drifted", (Gauge<Integer>) () -> latest.get().drifted ? 1 : 0);
    group.gauge("drift.window.end", (Gauge<Double>) () -> latest.get().windowEnd / 1000.0);
  }
}
