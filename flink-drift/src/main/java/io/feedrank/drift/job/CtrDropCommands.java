package io.feedrank.drift.job;

import io.feedrank.drift.stats.TwoProportions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PERFORMANCE_DROP} retrain commands, per model (the key): the online CTR of the production
 * version, as it ranked for the production arm (its windows' impressions less those of fallback
 * rankings), against its own baseline — its first {@code baselineWindows} windows of at least
 * {@code minImpressions} impressions each, pooled. A window is low when its CTR is at least {@code
 * dropFraction} below the baseline and a one-sided pooled two-proportion z-test puts that below
 * {@code pValue}; {@code persistence} low windows in a row issue one command for the version (a new
 * production version starts a new baseline). In a row means contiguous, as in {@link
 * RetrainDecider}: a window too small to judge (under {@code minImpressions}) or missing (no
 * impressions at all) ends the run, so a low window at 22:00 and another at 06:00 after a night of
 * small windows are not two in a row. Windows of other versions or variants are ignored; smaller
 * ones count for nothing else. Windows that come before any production record (a first start, whose
 * registry source has not caught up yet; none promoted yet, or {@code model.name} misspelt) are
 * held, the newest {@value #MAX_PENDING}, and replayed when the production record arrives; older
 * ones are dropped, counted ({@code drift.ctr.windows.pending.dropped}, a counter) and logged once.
 * With the command goes an {@link AlertEvent} of kind {@code PERFORMANCE_DROP} (side output {@link
 * RetrainDecider#ALERTS}). Input 1: the online CTR windows, in event-time order; input 2: the
 * registry records of the model.
 *
 * <p>Gauges, for Prometheus and Grafana: {@code drift.ctr.baseline}, the production version's
 * baseline CTR (NaN until its baseline windows are in, and in subtasks that hold no model), and
 * {@code drift.ctr.low.windows}, its low windows in a row now (0 after a window that is not low or
 * too small to judge, after a missing one, and for a new version). Both are as of the last window
 * or registry record this task processed, and are checkpointed with it: a restarted job shows them
 * at once, in the subtask that now holds the model, so an alert on them does not resolve while the
 * job restarts. When no online CTR window has come for {@code gaugeExpiryWindows} window lengths of
 * processing time (the traffic stopped, event time stands still), the low windows read 0: they kept
 * the last count, and {@code PerformanceDrop} fired on it for as long as no window came. A restored
 * count is shown until the first window after the restart, whose length the expiry needs.
 */
public final class CtrDropCommands
    extends KeyedCoProcessFunction<String, OnlineCtr.Window, ServingReference, Command>
    implements CheckpointedFunction {

  /** What the function keeps for the production version. A Flink POJO. */
  public static class Track {
    public String version;
    public long updatedAt;

    /** The {@link ServingReference#sequence} of that record (0 in older state). */
    public long sequence;

    /** The {@code updated_at} of the record that made it production: this stint's. */
    public long since;

    public int baselineWindows;
    public long baselineImpressions;
    public long baselineClicks;
    public int lowInARow;

    /** The end of the version's last production window, small ones included (0: none yet). */
    public long lastWindowEnd;

    public String lowWindows = "";
    public boolean sent;

    public Track() {}
  }

  /**
   * What the gauges show, with the model (the key) they show it for: checkpointed, so that a
   * restarted job shows it at once. A Flink POJO.
   */
  public static class Shown {
    public String model;
    public double baselineCtr;
    public int lowInARow;

    public Shown() {}
  }

  /**
   * Windows held while no production record is known. Beyond it the oldest are dropped: without a
   * production version of {@code model.name} they would pile up for as long as the job runs, all of
   * them in every checkpoint.
   */
  static final int MAX_PENDING = 1_000;

  private static final Logger log = LoggerFactory.getLogger(CtrDropCommands.class);

  private final double dropFraction;
  private final int baselineWindows;
  private final long minImpressions;
  private final int persistence;
  private final double pValue;
  private final int expiryWindows;

  private transient volatile double baselineCtr;
  private transient volatile int lowNow;

  /**
   * Processing time of the last window (epoch ms; {@code Long.MIN_VALUE}, set in open, before the
   * first) and how long after it the count expires.
   */
  private transient volatile long lastWindowAt;

  private transient volatile long expiresAfter;
  private transient ProcessingTimeService clock;
  private transient String shownModel;
  private transient ListState<Shown> shown;
  private transient ValueState<Track> track;
  private transient ListState<OnlineCtr.Window> pending;
  private transient ValueState<Integer> pendingCount;
  private transient Counter pendingDropped;
  private transient boolean pendingDropLogged;

  public CtrDropCommands(
      double dropFraction,
      int baselineWindows,
      long minImpressions,
      int persistence,
      double pValue) {
    this(
        dropFraction,
        baselineWindows,
        minImpressions,
        persistence,
        pValue,
        DriftJob.DEFAULT_GAUGE_EXPIRY_WINDOWS);
  }

  /**
   * @param gaugeExpiryWindows after how many window lengths without a window the low windows read 0
   */
  public CtrDropCommands(
      double dropFraction,
      int baselineWindows,
      long minImpressions,
      int persistence,
      double pValue,
      int gaugeExpiryWindows) {
    if (gaugeExpiryWindows < 1) {
      throw new IllegalArgumentException(
          "gauge.expiry.windows must be >= 1, got " + gaugeExpiryWindows);
    }
    this.expiryWindows = gaugeExpiryWindows;
    if (!(dropFraction > 0 && dropFraction < 1)) {
      throw new IllegalArgumentException(
          "ctr.drop.fraction must be within (0, 1), got " + dropFraction);
    }
    if (baselineWindows < 1 || persistence < 1 || minImpressions < 1) {
      throw new IllegalArgumentException(
          "ctr.baseline.windows, persistence.windows and ctr.min.impressions must be >= 1");
    }
    this.dropFraction = dropFraction;
    this.baselineWindows = baselineWindows;
    this.minImpressions = minImpressions;
    this.persistence = persistence;
    this.pValue = pValue;
  }

  @Override
  public void open(OpenContext ctx) {
    track = getRuntimeContext().getState(new ValueStateDescriptor<>("ctr-track", Track.class));
    pending =
        getRuntimeContext()
            .getListState(new ListStateDescriptor<>("ctr-pending", OnlineCtr.Window.class));
    pendingCount =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>("ctr-pending-count", Integer.class));
    // registered here, so that they are exported before the first window (and an alert rule sees
    // the low windows go from 0 to 2)
    clock = ((StreamingRuntimeContext) getRuntimeContext()).getProcessingTimeService();
    lastWindowAt = Long.MIN_VALUE; // a transient's initializer does not run on deserialization
    MetricGroup g = getRuntimeContext().getMetricGroup();
    g.gauge("drift.ctr.baseline", (Gauge<Double>) this::baselineCtr);
    g.gauge("drift.ctr.low.windows", (Gauge<Integer>) this::lowWindowsInARow);
    pendingDropped = g.counter("drift.ctr.windows.pending.dropped");
  }

  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    shown =
        ctx.getOperatorStateStore()
            .getUnionListState(new ListStateDescriptor<>("ctr-gauges", Shown.class));
    baselineCtr = Double.NaN;
    lowNow = 0;
    if (ctx.isRestored()) {
      for (Shown s : shown.get()) {
        if (LatestGauges.routedHere(getRuntimeContext().getTaskInfo(), s.model)) {
          shownModel = s.model;
          baselineCtr = s.baselineCtr;
          lowNow = s.lowInARow;
        }
      }
    }
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    if (shownModel == null) {
      shown.clear();
      return;
    }
    Shown s = new Shown();
    s.model = shownModel;
    s.baselineCtr = baselineCtr;
    s.lowInARow = lowNow;
    shown.update(List.of(s));
  }

  /** Windows dropped, oldest first, from those waiting for a production record. */
  long pendingDropped() {
    return pendingDropped.getCount();
  }

  /** The production version's baseline CTR as of the last window judged; NaN when none. */
  double baselineCtr() {
    return baselineCtr;
  }

  /**
   * The production version's low windows in a row as of the last window judged; 0 once no window
   * has come for {@code gaugeExpiryWindows} window lengths.
   */
  int lowWindowsInARow() {
    long at = lastWindowAt;
    if (at != Long.MIN_VALUE && clock.getCurrentProcessingTime() - at >= expiresAfter) {
      return 0;
    }
    return lowNow;
  }

  @Override
  public void processElement1(OnlineCtr.Window w, Context ctx, Collector<Command> out)
      throws Exception {
    expiresAfter = expiryWindows * Math.max(1, w.windowEnd - w.windowStart);
    lastWindowAt = clock.getCurrentProcessingTime();
    Track t = track.value();
    if (t == null) {
      hold(w, ctx.getCurrentKey());
      return;
    }
    window(t, w, ctx, out);
  }

  /**
   * Keeps {@code w} until a production record of {@code model} comes: the newest {@value
   * #MAX_PENDING} windows (by window end), the older ones dropped, counted and logged once per
   * subtask. The newest, as {@link DriftEvaluator} keeps its windows: the replay then ends where
   * the live windows go on, with no gap before them to end a run of low windows.
   */
  private void hold(OnlineCtr.Window w, String model) throws Exception {
    int n = pendingCount.value() == null ? 0 : pendingCount.value();
    if (n < MAX_PENDING) {
      pending.add(w);
      pendingCount.update(n + 1);
      return;
    }
    List<OnlineCtr.Window> kept = new ArrayList<>();
    pending.get().forEach(kept::add);
    kept.add(w);
    kept.sort(Comparator.comparingLong(x -> x.windowEnd));
    int dropped = kept.size() - MAX_PENDING;
    pending.update(new ArrayList<>(kept.subList(dropped, kept.size())));
    pendingDropped.inc(dropped);
    if (!pendingDropLogged) {
      pendingDropLogged = true;
      log.warn(
          "drift: no production version of model {} in the registry (none promoted yet, or"
              + " model.name misspelt?): {} online CTR windows wait for one, the oldest are dropped"
              + " from now on (counted in drift.ctr.windows.pending.dropped; logged once)",
          model,
          MAX_PENDING);
    }
  }

  private void window(Track t, OnlineCtr.Window w, Context ctx, Collector<Command> out)
      throws Exception {
    String model = ctx.getCurrentKey();
    if (!t.version.equals(w.modelVersion) || !"production".equals(w.variant)) {
      return;
    }
    // the model's own rankings: a fallback's (Redis away, the model failing) are not its CTR, and
    // a retrain would not mend them
    long impressions = w.impressions - w.fallbackImpressions;
    long clicks = w.clicks - w.fallbackClicks;
    double ctr = impressions == 0 ? 0 : (double) clicks / impressions;
    // 0: no window yet, or state from a job that did not keep it
    boolean contiguous = t.lastWindowEnd == 0 || t.lastWindowEnd == w.windowStart;
    t.lastWindowEnd = w.windowEnd;
    if (impressions < minImpressions) {
      t.lowInARow = 0; // too small to judge: the low windows around it are not in a row
      t.lowWindows = "";
      track.update(t);
      show(model, t);
      return;
    }
    if (t.baselineWindows < baselineWindows) {
      t.baselineWindows++;
      t.baselineImpressions += impressions;
      t.baselineClicks += clicks;
      track.update(t);
      show(ctx.getCurrentKey(), t);
      return;
    }
    double baseline = (double) t.baselineClicks / t.baselineImpressions;
    double p =
        TwoProportions.lowerPValue(t.baselineClicks, t.baselineImpressions, clicks, impressions);
    boolean low = ctr <= (1 - dropFraction) * baseline && p < pValue;
    String described =
        String.format(
            Locale.ROOT,
            "%.4f over %d impressions in [%s, %s) (p=%.2g)",
            ctr,
            impressions,
            Instant.ofEpochMilli(w.windowStart),
            Instant.ofEpochMilli(w.windowEnd),
            p);
    if (!contiguous) {
      t.lowInARow = 0; // a window missing before this one: a new run
      t.lowWindows = "";
    }
    t.lowInARow = low ? t.lowInARow + 1 : 0;
    t.lowWindows = !low ? "" : t.lowWindows.isEmpty() ? described : t.lowWindows + "; " + described;
    if (t.lowInARow >= persistence && !t.sent) {
      t.sent = true;
      Command c = new Command();
      // one per stint in production: a version rolled back to production later starts a new
      // baseline, and its own drop then must not carry the id the trainer has run already
      c.commandId = model + "/" + t.version + "/ctr-drop/" + t.since;
      c.modelName = model;
      c.issuedAt = w.windowEnd;
      c.reason = "PERFORMANCE_DROP";
      c.referenceVersion = t.version;
      c.message =
          String.format(
              Locale.ROOT,
              "online CTR of %s (production) fell at least %.0f%% below its baseline of %.4f"
                  + " (its first %d windows, %d impressions) in %d windows in a row: %s",
              t.version,
              dropFraction * 100,
              baseline,
              t.baselineWindows,
              t.baselineImpressions,
              t.lowInARow,
              t.lowWindows);
      Actions.command(c);
      out.collect(c);
      AlertEvent a = new AlertEvent();
      a.alertId = c.commandId;
      a.time = c.issuedAt;
      a.severity = "WARNING";
      a.kind = "PERFORMANCE_DROP";
      a.message = c.message;
      a.referenceVersion = t.version;
      Actions.alert(a);
      ctx.output(RetrainDecider.ALERTS, a);
    }
    track.update(t);
    show(ctx.getCurrentKey(), t);
  }

  /** Sets the gauges from the production version's track. */
  private void show(String model, Track t) {
    shownModel = model;
    baselineCtr =
        t.baselineWindows < baselineWindows
            ? Double.NaN
            : (double) t.baselineClicks / t.baselineImpressions;
    lowNow = t.lowInARow;
  }

  @Override
  public void processElement2(ServingReference r, Context ctx, Collector<Command> out)
      throws Exception {
    Track t = track.value();
    if (!"PRODUCTION".equals(r.stage) || (t != null && !r.after(t.sequence, t.updatedAt))) {
      return;
    }
    if (t != null && t.version.equals(r.version)) {
      t.updatedAt = r.updatedAt; // the same version again: keep its baseline
      t.sequence = r.sequence;
    } else {
      t = new Track();
      t.version = r.version;
      t.updatedAt = r.updatedAt;
      t.sequence = r.sequence;
      t.since = r.updatedAt;
    }
    track.update(t);
    show(ctx.getCurrentKey(), t);
    if (pendingCount.value() != null) {
      for (OnlineCtr.Window w : pending.get()) {
        window(t, w, ctx, out);
      }
      pending.clear();
      pendingCount.clear();
    }
  }
}
