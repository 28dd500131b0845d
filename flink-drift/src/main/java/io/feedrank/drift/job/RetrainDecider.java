package io.feedrank.drift.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns drift reports into decisions, per model (the key). A feature whose report says drifted
 * starts or extends a streak of consecutive windows (a window whose sample size, {@link
 * Report#sampleSize}, is under {@code minSample} neither extends nor breaks it; a gap breaks it).
 * When any feature's streak reaches {@code persistence} windows and no drift episode has had its
 * command yet, one {@link Command} goes out with the evidence of every feature whose streak has
 * reached {@code persistence} — unless the last command was less than {@code cooldown} ago in event
 * time, in which case it goes out when the cooldown has passed and the drift is still there. The
 * episode ends when no feature drifts any more; a feature without a report for two windows while
 * others report has no streak any more. A report against another reference version (the serving
 * model changed) starts over. An {@link AlertEvent} (side output {@link #ALERTS}) marks the first
 * drifted window of each streak.
 *
 * <p>The reports of one window come from every evaluator subtask, in no particular order. They are
 * held until the watermark passes the window's end — when every subtask has sent its reports of it
 * — and then taken together, by feature: what a window decides does not depend on the order its
 * reports arrived in. A report that comes after the watermark has passed its window (windows that
 * waited for the first production model, evaluated when it became known) is taken at the next
 * watermark, or as it comes after the end of a bounded input; as each evaluator subtask learns of
 * the model at its own time, such a window may be decided in parts. A report against a reference
 * older than the one in force (a subtask that learned of a promotion late), or, within a window,
 * than the newest of the window's, is left out and counted ({@code drift.reports.stale}), unless it
 * is of the same version: references are ordered by where their registry record is in the topic
 * ({@link Report#referenceSequence}), not by clocks, and a rollback to the version in force changes
 * nothing.
 */
public final class RetrainDecider extends KeyedProcessFunction<String, Report, Command> {
  public static final OutputTag<AlertEvent> ALERTS = new OutputTag<>("alerts") {};

  private final int persistence;
  private final long minSample;
  private final long cooldownMillis;

  private transient MapState<String, Integer> streaks;
  private transient MapState<String, Long> lastWindowEnd;
  private transient MapState<String, Command.Evidence> evidence;
  private transient ValueState<String> reference;
  private transient ValueState<Long> referenceSequence;
  private transient Counter stale;
  private transient ValueState<Boolean> commanded;
  private transient ValueState<Long> lastCommandAt;
  private transient ListState<Report> held;

  public RetrainDecider(int persistence, long minSample, Duration cooldown) {
    if (persistence < 1 || minSample < 0 || cooldown.isNegative()) {
      throw new IllegalArgumentException("persistence >= 1, minSample >= 0, cooldown >= 0");
    }
    this.persistence = persistence;
    this.minSample = minSample;
    this.cooldownMillis = cooldown.toMillis();
  }

  @Override
  public void open(OpenContext ctx) {
    streaks =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("streaks", String.class, Integer.class));
    lastWindowEnd =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("last-window-end", String.class, Long.class));
    evidence =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>("evidence", String.class, Command.Evidence.class));
    reference = getRuntimeContext().getState(new ValueStateDescriptor<>("reference", String.class));
    referenceSequence =
        getRuntimeContext().getState(new ValueStateDescriptor<>("reference-sequence", Long.class));
    stale = getRuntimeContext().getMetricGroup().counter("drift.reports.stale");
    commanded =
        getRuntimeContext().getState(new ValueStateDescriptor<>("commanded", Boolean.class));
    lastCommandAt =
        getRuntimeContext().getState(new ValueStateDescriptor<>("last-command-at", Long.class));
    held = getRuntimeContext().getListState(new ListStateDescriptor<>("held", Report.class));
  }

  @Override
  public void processElement(Report r, Context ctx, Collector<Command> out) throws Exception {
    held.add(r);
    if (ctx.timerService().currentWatermark() == Long.MAX_VALUE) {
      // after the end of the input (a bounded run), no timer fires any more
      decideHeld(Long.MAX_VALUE, ctx, out);
      return;
    }
    // the window's own end, not the record's timestamp: reports evaluated late carry another
    ctx.timerService().registerEventTimeTimer(r.windowEnd - 1);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Command> out) throws Exception {
    decideHeld(timestamp, ctx, out);
  }

  /** Decides every held window that ends by {@code upTo} + 1, in window order. */
  private void decideHeld(long upTo, Context ctx, Collector<Command> out) throws Exception {
    List<Report> ready = new ArrayList<>();
    List<Report> later = new ArrayList<>();
    for (Report r : held.get()) {
      (r.windowEnd - 1 <= upTo ? ready : later).add(r);
    }
    held.update(later);
    ready.sort(Comparator.<Report>comparingLong(r -> r.windowEnd).thenComparing(r -> r.feature));
    for (int i = 0; i < ready.size(); ) {
      // the newest reference known: the one in force, or a newer one in the window (a promotion
      // that some evaluator subtasks learned of before their report of the window and others
      // after); a report against an older one of another version is stale
      String newest = reference.value();
      long newestSequence = referenceSequence.value() == null ? 0 : referenceSequence.value();
      int j = i;
      while (j < ready.size() && ready.get(j).windowEnd == ready.get(i).windowEnd) {
        Report r = ready.get(j++);
        if (newest == null || r.referenceSequence > newestSequence) {
          newest = r.referenceVersion;
          newestSequence = r.referenceSequence;
        }
      }
      for (Report r : ready.subList(i, j)) {
        if (r.referenceSequence < newestSequence && !r.referenceVersion.equals(newest)) {
          stale.inc(); // its model serves no more
        } else {
          apply(r, ctx);
        }
      }
      decide(ready.get(j - 1), ctx.getCurrentKey(), out);
      i = j;
    }
  }

  /** One report's part: its feature's streak. */
  private void apply(Report r, Context ctx) throws Exception {
    Long current = referenceSequence.value();
    if (r.referenceVersion.equals(reference.value())) {
      // the same model (a rollback to it included): nothing to start over
      if (current == null || r.referenceSequence > current) {
        referenceSequence.update(r.referenceSequence);
      }
    } else {
      referenceSequence.update(r.referenceSequence);
      streaks.clear();
      lastWindowEnd.clear();
      evidence.clear();
      commanded.clear();
      reference.update(r.referenceVersion);
    }
    Long previousEnd = lastWindowEnd.get(r.feature);
    if (r.sampleSize < minSample) {
      // too small to judge: it neither extends nor breaks a streak, so the window after it is
      // still the streak's next one
      if (previousEnd != null && previousEnd == r.windowStart) {
        lastWindowEnd.put(r.feature, r.windowEnd);
      }
      return;
    }
    boolean contiguous = previousEnd != null && previousEnd == r.windowStart;
    lastWindowEnd.put(r.feature, r.windowEnd);
    if (r.drifted) {
      Integer before = contiguous ? streaks.get(r.feature) : null;
      int streak = before == null ? 1 : before + 1;
      streaks.put(r.feature, streak);
      evidence.put(r.feature, evidence(r, streak));
      if (streak == 1) {
        AlertEvent a = alert(r);
        Actions.alert(a);
        ctx.output(ALERTS, a);
      }
    } else {
      streaks.remove(r.feature);
      evidence.remove(r.feature);
    }
  }

  /** The decision after all of a window's reports ({@code r} is one of them). */
  private void decide(Report r, String model, Collector<Command> out) throws Exception {
    expireSilentStreaks(r);
    List<Command.Evidence> persisted = new ArrayList<>();
    boolean anyStreak = false;
    for (Map.Entry<String, Integer> e : streaks.entries()) {
      anyStreak = true;
      if (e.getValue() >= persistence) {
        persisted.add(evidence.get(e.getKey()));
      }
    }
    if (!anyStreak) {
      commanded.clear(); // the episode is over
      return;
    }
    Long last = lastCommandAt.value();
    boolean cooled = last == null || r.windowEnd - last >= cooldownMillis;
    if (!persisted.isEmpty() && !Boolean.TRUE.equals(commanded.value()) && cooled) {
      persisted.sort(Comparator.comparing(e -> e.feature));
      Command c = command(model, r, persisted);
      Actions.command(c);
      out.collect(c);
      commanded.update(true);
      lastCommandAt.update(r.windowEnd);
    }
  }

  /**
   * Ends the streaks of features that have had no report for two windows while others report (a
   * feature dropped from monitoring, gone quiet): its next report could not extend the streak, and
   * a streak left standing would keep the episode from ever ending. One window of slack, for
   * reports evaluated late (see above), which come after those of later windows.
   */
  private void expireSilentStreaks(Report r) throws Exception {
    long before = r.windowStart - (r.windowEnd - r.windowStart);
    List<String> silent = new ArrayList<>();
    for (Map.Entry<String, Long> e : lastWindowEnd.entries()) {
      if (e.getValue() < before) {
        silent.add(e.getKey());
      }
    }
    for (String feature : silent) {
      lastWindowEnd.remove(feature);
      streaks.remove(feature);
      evidence.remove(feature);
    }
  }

  private static Command.Evidence evidence(Report r, int streak) {
    Command.Evidence e = new Command.Evidence();
    e.feature = r.feature;
    e.kind = r.kind;
    e.windowStart = r.windowStart;
    e.windowEnd = r.windowEnd;
    e.n = r.n;
    e.sampleSize = r.sampleSize;
    e.psi = r.psi;
    e.ksStatistic = r.ksStatistic;
    e.ksPValue = r.ksPValue;
    e.chi2PValue = r.chi2PValue;
    e.consecutiveWindows = streak;
    return e;
  }

  private Command command(String model, Report r, List<Command.Evidence> persisted)
      throws Exception {
    String version = reference.value(); // r's, unless r was left out as stale
    Command c = new Command();
    c.modelName = model;
    c.referenceVersion = version;
    c.issuedAt = r.windowEnd;
    c.commandId = model + "/" + version + "/" + r.windowEnd;
    boolean onlyScores = persisted.stream().allMatch(e -> "PREDICTION".equals(e.kind));
    c.reason = onlyScores ? "PREDICTION_DRIFT" : "FEATURE_DRIFT";
    c.evidence.addAll(persisted);
    c.message =
        persisted.size()
            + " feature(s) drifted for "
            + persistence
            + "+ consecutive windows against "
            + version
            + ": "
            + persisted.stream().map(e -> e.feature).sorted().toList();
    return c;
  }

  private static AlertEvent alert(Report r) {
    AlertEvent a = new AlertEvent();
    a.alertId = r.modelName + "/" + r.feature + "/" + r.windowEnd;
    a.time = r.windowEnd;
    a.severity = "WARNING";
    a.kind = "PREDICTION".equals(r.kind) ? "PREDICTION_DRIFT" : "FEATURE_DRIFT";
    a.feature = r.feature;
    a.referenceVersion = r.referenceVersion;
    a.message =
        String.format(
            java.util.Locale.ROOT,
            "%s drifted in [%d, %d): PSI %.3f%s against %s",
            r.feature,
            r.windowStart,
            r.windowEnd,
            r.psi,
            r.ksStatistic == null
                ? ""
                : String.format(
                    java.util.Locale.ROOT, ", KS %.3f (p %.2g)", r.ksStatistic, r.ksPValue),
            r.referenceVersion);
    return a;
  }
}
