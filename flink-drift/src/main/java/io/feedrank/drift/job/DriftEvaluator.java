package io.feedrank.drift.job;

import io.feedrank.drift.stats.ChiSquare;
import io.feedrank.drift.stats.KolmogorovSmirnov;
import io.feedrank.events.DriftKind;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.HourScoreProfile;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.models.profile.Bins;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.AvroRuntimeException;
import org.apache.datasketches.common.SketchesException;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets each window summary against the reference profile of the model that is serving: the newest
 * PRODUCTION version of {@code modelName} in the broadcast registry state, so a promotion switches
 * the reference for every window evaluated after it. PSI over the reference's bins (1e-4 for empty
 * ones), KS from the two sketches (numeric, scores), the two-sample chi-square over the reference's
 * categories (categorical), the mean and its relative change (scores). A score window is set
 * against the scores of its own UTC hour of day in the reference ({@code score_by_hour}, the hour
 * of the window's start) when the holdout has at least {@value #MIN_HOUR_SCORES} of them and the
 * window is at most an hour long, else against all of the holdout's: the score follows the daily
 * cycle (the hour of day is a model input), and a window of a few minutes set against a holdout of
 * a day or more was "drifted" for most hours of an unchanged day. A window that arrives before any
 * production model is known waits in keyed state and is evaluated against the first one — the
 * newest {@value #MAX_PENDING} windows per feature, older ones dropped and counted ({@code
 * drift.windows.pending.dropped}, a counter). A window the serving reference cannot judge (a
 * feature it does not profile, a profile of the other kind, or one without values: see {@link
 * #unusable}) produces no report and is counted ({@code drift.windows.bad.reference}); the other
 * features go on. A window without a finite value ({@code n} 0) produces no report. Counts of late
 * values (summaries with only {@link WindowSummary#late}) are kept per feature and go out with its
 * next report as {@code lateEvents}. A serving reference whose profile cannot be decoded (state
 * restored from a build before {@link ProfileBytes}' form, into a build whose {@code
 * ReferenceProfile} schema has changed) judges nothing: the windows wait for the next registry
 * record as they do for a first production model, counted ({@code
 * drift.windows.undecodable.reference}) and logged once per version.
 */
public final class DriftEvaluator
    extends KeyedBroadcastProcessFunction<String, WindowSummary, ServingReference, Report>
    implements CheckpointedFunction {
  public static final MapStateDescriptor<String, ServingReference> REGISTRY =
      new MapStateDescriptor<>(
          "registry", Types.STRING, TypeInformation.of(ServingReference.class));
  static final double EPSILON = 1e-4;
  private static final Logger log = LoggerFactory.getLogger(DriftEvaluator.class);

  /** Windows that came before any production model was known, evaluated when one is. */
  static final ListStateDescriptor<WindowSummary> PENDING =
      new ListStateDescriptor<>("pending", TypeInformation.of(WindowSummary.class));

  /** How many windows {@link #PENDING} holds for the feature (the list state has no size). */
  static final ValueStateDescriptor<Integer> PENDING_COUNT =
      new ValueStateDescriptor<>("pending-count", Types.INT);

  /**
   * Windows held per feature while no production model is known: a day of the default 5-minute
   * windows. Beyond it the oldest are dropped ({@code drift.windows.pending.dropped}): without a
   * production model of {@code model.name} (none promoted yet, or the name misspelt) the windows
   * would pile up for as long as the job runs, each a sketch, all of them in every checkpoint.
   */
  static final int MAX_PENDING = 288;

  /** Late values of the feature since its last report (reported with the next one). */
  static final ValueStateDescriptor<Long> LATE = new ValueStateDescriptor<>("late", Types.LONG);

  private final String modelName;
  private final DriftThresholdsConfig thresholds;
  private transient Map<String, Parsed> parsed;

  /**
   * Fewest holdout scores of an hour of day for its own profile to judge that hour's score windows;
   * with fewer, the whole holdout's judges them. The hour's scores are a sample too: the relative
   * standard error of their mean is the scores' coefficient of variation (0.5 to 1 for a click
   * model's scores around 0.1) over √n, at most 3.2% at 1,000 scores, a third of the default {@code
   * mean.change.threshold} (10%); at 200 it is up to 7%, and the reference's own error alone would
   * put some hours over the threshold every day of the model's life. Its decile bins hold 100
   * scores each, and the KS p-value takes its n.
   */
  static final int MIN_HOUR_SCORES = 1_000;

  private static final long HOUR_MILLIS = 3_600_000L;
  private static final long DAY_MILLIS = 24 * HOUR_MILLIS;

  /**
   * A reference profile, indexed by feature name (the score under {@code score}), and its score
   * profiles by UTC hour of day.
   */
  private record Parsed(
      long n, Map<String, FeatureProfile> features, Map<Integer, HourScoreProfile> scoreByHour) {

    /**
     * The profile that judges {@code s}: for a score window of at most an hour, its hour's (the
     * hour of its start) when that has {@value #MIN_HOUR_SCORES} scores or more; else the
     * feature's.
     */
    Against against(WindowSummary s) {
      if ("PREDICTION".equals(s.kind) && s.windowEnd - s.windowStart <= HOUR_MILLIS) {
        HourScoreProfile h =
            scoreByHour.get((int) (Math.floorMod(s.windowStart, DAY_MILLIS) / HOUR_MILLIS));
        if (h != null && h.getN() >= MIN_HOUR_SCORES) {
          return new Against(h.getScore(), h.getN(), h.getHour());
        }
      }
      return new Against(features.get(FeatureValue.featureOf(s.feature)), n, null);
    }
  }

  /** A profile, the rows it is of, and its hour of day (null: the whole holdout's). */
  private record Against(FeatureProfile profile, long n, Integer hour) {}

  private transient Counter pendingDropped;
  private transient Counter badReference;
  private transient Counter otherVersion;
  private transient Counter undecodableReference;
  private transient Set<String> warned;
  private transient boolean pendingDropLogged;

  public DriftEvaluator(String modelName, DriftThresholdsConfig thresholds) {
    this.modelName = modelName;
    this.thresholds = thresholds;
  }

  /** Windows dropped, oldest first, from those waiting for a production model. */
  long pendingDropped() {
    return pendingDropped.getCount();
  }

  /** Windows of another model version's scores than the serving one's, not judged. */
  long otherVersion() {
    return otherVersion.getCount();
  }

  /** Windows not evaluated because their reference profile cannot judge them. */
  long badReference() {
    return badReference.getCount();
  }

  /** Windows held because the serving reference's profile cannot be decoded. */
  long undecodableReference() {
    return undecodableReference.getCount();
  }

  @Override
  public void open(OpenContext ctx) {
    pendingDropped = getRuntimeContext().getMetricGroup().counter("drift.windows.pending.dropped");
    badReference = getRuntimeContext().getMetricGroup().counter("drift.windows.bad.reference");
    otherVersion = getRuntimeContext().getMetricGroup().counter("drift.windows.other.version");
    undecodableReference =
        getRuntimeContext().getMetricGroup().counter("drift.windows.undecodable.reference");
    warned = new HashSet<>();
  }

  /**
   * Rewrites the reference profiles of state restored from a build before {@link ProfileBytes}
   * (single-object encoded, without their schema) as {@link ProfileBytes}, while this build's
   * schema still reads them, so that the checkpoints from now on restore into a build with another
   * schema too. One this build cannot decode is left as it is: windows wait past it ({@link
   * #parsed}).
   */
  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    BroadcastState<String, ServingReference> registry =
        ctx.getOperatorStateStore().getBroadcastState(REGISTRY);
    Map<String, ServingReference> rewritten = new HashMap<>();
    for (Map.Entry<String, ServingReference> e : registry.entries()) {
      ServingReference v = e.getValue();
      if (v.profile == null || ProfileBytes.carriesSchema(v.profile)) {
        continue;
      }
      try {
        v.profile = ProfileBytes.of(ProfileBytes.read(v.profile));
        rewritten.put(e.getKey(), v);
      } catch (IOException | AvroRuntimeException undecodable) {
        // left as it is: counted and logged if it is ever the serving reference
      }
    }
    registry.putAll(rewritten);
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) {
    // the registry state is the operator's broadcast state, snapshotted by the operator
  }

  @Override
  public void processBroadcastElement(ServingReference v, Context ctx, Collector<Report> out)
      throws Exception {
    if (!modelName.equals(v.modelName)) {
      return;
    }
    // only production versions are kept: the others (every candidate, rejected, staged or
    // archived version, each with its profile) would grow this state, copied into every
    // checkpoint by every subtask, with each retrain for as long as the job runs
    if ("PRODUCTION".equals(v.stage) && v.profile != null) {
      ctx.getBroadcastState(REGISTRY).put(v.version, v);
    } else {
      ctx.getBroadcastState(REGISTRY).remove(v.version);
    }
    if (parsed != null) {
      parsed.remove(v.version); // a version's record again may bring a profile that decodes
    }
    ServingReference serving = serving(ctx.getBroadcastState(REGISTRY));
    Parsed p = serving == null ? null : parsed(serving);
    if (p == null) {
      return;
    }
    List<Report> evaluated = new ArrayList<>();
    Map<String, Report> newest = new HashMap<>();
    ctx.applyToKeyedState(
        PENDING,
        (feature, state) -> {
          for (WindowSummary s : state.get()) {
            if (ofAnotherVersion(s, serving)) {
              continue;
            }
            Report r = s.n == 0 ? null : report(s, p.against(s), serving);
            if (r != null) {
              evaluated.add(r);
              newest.put(feature, r);
            }
          }
          state.clear();
        });
    ctx.applyToKeyedState(PENDING_COUNT, (feature, state) -> state.clear());
    // late values counted while the windows waited go out with the newest of them
    ctx.applyToKeyedState(
        LATE,
        (feature, state) -> {
          Report r = newest.get(feature);
          if (r != null && state.value() != null) {
            r.lateEvents = state.value();
            state.clear();
          }
        });
    // in window order, as the windows themselves would have come
    evaluated.sort(
        Comparator.<Report>comparingLong(r -> r.windowEnd).thenComparing(r -> r.feature));
    evaluated.forEach(out::collect);
  }

  @Override
  public void processElement(WindowSummary s, ReadOnlyContext ctx, Collector<Report> out)
      throws Exception {
    ValueState<Long> late = getRuntimeContext().getState(LATE);
    ServingReference serving = serving(ctx.getBroadcastState(REGISTRY));
    if (serving != null && ofAnotherVersion(s, serving)) {
      return; // its late values too: they would wait for a report of that version
    }
    if (s.n == 0 && s.late > 0) {
      late.update((late.value() == null ? 0 : late.value()) + s.late);
      return;
    }
    Parsed p = serving == null ? null : parsed(serving);
    if (p == null) {
      if (serving != null) {
        undecodableReference.inc();
      }
      hold(s);
      return;
    }
    if (s.n == 0) {
      return; // no finite value in the window: nothing to judge
    }
    Report r = report(s, p.against(s), serving);
    if (r == null) {
      return;
    }
    if (late.value() != null) {
      r.lateEvents = late.value();
      late.clear();
    }
    out.collect(r);
  }

  /**
   * Whether {@code s} holds the scores of another model version than the serving one ({@link
   * FeatureValue#versioned}): not judged, counted in {@code drift.windows.other.version}. These are
   * the windows of the old model a ranker serves until it swaps, or keeps serving when it refused
   * the promotion (a checksum it could not verify, a feature schema it cannot build): measured
   * against the new model's reference, its score distribution was taken for the new one's drift.
   */
  private boolean ofAnotherVersion(WindowSummary s, ServingReference serving) {
    String version = FeatureValue.versionOf(s.feature);
    if (version == null || version.equals(serving.version)) {
      return false;
    }
    if (s.n > 0) {
      otherVersion.inc();
    }
    return true;
  }

  /**
   * Keeps {@code s} until a production model is known: the newest {@value #MAX_PENDING} windows of
   * the feature (by window end), the older ones dropped, counted and logged once per subtask.
   */
  private void hold(WindowSummary s) throws Exception {
    ListState<WindowSummary> pending = getRuntimeContext().getListState(PENDING);
    ValueState<Integer> count = getRuntimeContext().getState(PENDING_COUNT);
    int n = 0;
    if (count.value() != null) {
      n = count.value();
    } else {
      for (WindowSummary ignored : pending.get()) {
        n++; // state from a job that did not count them
      }
    }
    if (n < MAX_PENDING) {
      pending.add(s);
      count.update(n + 1);
      return;
    }
    List<WindowSummary> kept = new ArrayList<>();
    pending.get().forEach(kept::add);
    kept.add(s);
    kept.sort(Comparator.comparingLong(w -> w.windowEnd));
    int dropped = kept.size() - MAX_PENDING;
    pending.update(new ArrayList<>(kept.subList(dropped, kept.size())));
    count.update(MAX_PENDING);
    pendingDropped.inc(dropped);
    if (!pendingDropLogged) {
      pendingDropLogged = true;
      log.warn(
          "drift: no production version of model {} in the registry (none promoted yet, or"
              + " model.name misspelt?): {} windows of feature {} wait for one, the oldest are"
              + " dropped from now on (counted in drift.windows.pending.dropped; logged once)",
          modelName,
          MAX_PENDING,
          s.feature);
    }
  }

  /**
   * The report of {@code s} against {@code against}, or null when it cannot judge it (see {@link
   * #unusable}; a profile the statistics refuse otherwise too): the window is counted in {@code
   * drift.windows.bad.reference} and logged once per reference version and feature, and the other
   * features go on. Thrown out of the operator, it failed the job at every restart.
   */
  private Report report(WindowSummary s, Against against, ServingReference serving) {
    String why = unusable(s, against.profile(), against.n());
    Report r = null;
    if (why == null) {
      try {
        r = evaluate(s, against.profile(), serving.version, against.n());
      } catch (IllegalArgumentException | SketchesException e) {
        why = e.getMessage();
      }
    }
    if (r == null) {
      badReference.inc();
      if (warned.add(serving.version + "/" + s.feature)) {
        log.warn(
            "drift: feature {} is not evaluated against reference {} of model {}: {} (its windows"
                + " are counted in drift.windows.bad.reference; logged once per version and"
                + " feature)",
            s.feature,
            serving.version,
            modelName,
            why);
      }
      return null;
    }
    r.referenceSequence = serving.sequence;
    r.referenceHour = against.hour();
    return r;
  }

  /**
   * Why {@code fp} cannot judge window {@code s}, or null when it can: no profile (null: the
   * reference does not profile the feature, as a model trained before the feature was added does
   * not), a profile of the other kind (a categorical window against a numeric profile or the
   * reverse: the trainer's feature spec and the job's disagree), or a profile without values (an
   * empty holdout, or a feature it never had: no bins, no categories, a reference of 0 rows).
   */
  static String unusable(WindowSummary s, FeatureProfile fp, long referenceN) {
    if (fp == null) {
      return "the reference does not profile the feature";
    }
    boolean categoricalWindow = "CATEGORICAL".equals(s.kind);
    boolean categoricalProfile = fp.getKind() == DriftKind.CATEGORICAL;
    if (categoricalWindow != categoricalProfile) {
      return "a " + s.kind + " window against a " + fp.getKind() + " profile";
    }
    if (referenceN <= 0) {
      return "the reference has 0 rows (an empty holdout)";
    }
    if (categoricalProfile ? fp.getCategories().isEmpty() : fp.getBinFractions().isEmpty()) {
      return "the reference has no values of the feature";
    }
    return null;
  }

  /** The report of one window against one feature's reference. */
  Report evaluate(WindowSummary s, FeatureProfile fp, String version, long referenceN) {
    Report r = new Report();
    r.windowStart = s.windowStart;
    r.windowEnd = s.windowEnd;
    r.modelName = modelName;
    r.referenceVersion = version;
    r.feature = FeatureValue.featureOf(s.feature);
    r.kind = s.kind;
    r.n = s.n;
    // a window summed up before units were counted (state from an older job) has none
    r.sampleSize = s.sampleSize > 0 ? s.sampleSize : s.n;
    r.referenceN = referenceN;
    r.psiThreshold = thresholds.psi();
    r.ksThreshold = thresholds.ks();
    r.pValueThreshold = thresholds.pValue();
    if ("CATEGORICAL".equals(s.kind)) {
      List<String> categories = fp.getCategories();
      double[] expected = Bins.categoryFractions(fp);
      long[] observed = new long[expected.length];
      s.counts.forEach((c, k) -> observed[Bins.categoryBin(categories, c)] += k);
      r.psi = Bins.psi(expected, Bins.fractions(observed), EPSILON);
      ChiSquare.Result chi = ChiSquare.twoSample(observed, expected, referenceN);
      r.chi2Statistic = chi.statistic();
      r.chi2PValue = chi.pValue();
    } else {
      KllDoublesSketch window = KllDoublesSketch.heapify(Memory.wrap(s.sketch));
      double[] edges = Bins.edges(fp);
      r.psi = Bins.psi(Bins.binFractions(fp), fractions(window, edges), EPSILON);
      KllDoublesSketch reference = Bins.sketch(fp);
      if (!reference.isEmpty()) {
        r.ksStatistic = KolmogorovSmirnov.statistic(reference, window);
        // the window's sample size, not its values: 100 scores of one response are not 100
        // independent draws, and counting them so would make any two windows of a few users
        // "significantly" different (the reference's scores are one per holdout example)
        r.ksPValue = KolmogorovSmirnov.pValue(r.ksStatistic, reference.getN(), r.sampleSize);
      }
      r.mean = s.sum / s.n;
      r.referenceMean = fp.getMean();
      if (fp.getMean() != 0) {
        r.meanRelativeChange = (r.mean - fp.getMean()) / Math.abs(fp.getMean());
      }
    }
    r.drifted = thresholds.drifted(r);
    return r;
  }

  /** Fractions of the window's values in the reference's bins, from its inclusive CDF. */
  static double[] fractions(KllDoublesSketch window, double[] edges) {
    if (edges.length == 0) {
      return new double[] {1.0};
    }
    double[] cdf = window.getCDF(edges, QuantileSearchCriteria.INCLUSIVE);
    double[] f = new double[cdf.length];
    double previous = 0;
    for (int i = 0; i < cdf.length; i++) {
      f[i] = Math.max(0, cdf[i] - previous);
      previous = cdf[i];
    }
    return f;
  }

  /**
   * The newest production version of {@code modelName} in {@code state}. Only that model's records
   * are put there, but state restored from a job of another model (the Flink operator's last-state
   * upgrade after {@code model.name} changed) holds that model's: windows were judged against it.
   */
  private ServingReference serving(ReadOnlyBroadcastState<String, ServingReference> state)
      throws Exception {
    ServingReference best = null;
    for (Map.Entry<String, ServingReference> e : state.immutableEntries()) {
      ServingReference v = e.getValue();
      if (modelName.equals(v.modelName)
          && "PRODUCTION".equals(v.stage)
          && v.profile != null
          && (best == null || v.after(best.sequence, best.updatedAt))) {
        best = v;
      }
    }
    return best;
  }

  /**
   * The profile of {@code v}, decoded once per version; null when it cannot be, logged once: thrown
   * out of the operator, it failed the task at every restart, as the state it was restored from
   * still held it.
   */
  private Parsed parsed(ServingReference v) {
    if (parsed == null) {
      parsed = new HashMap<>();
    }
    if (parsed.containsKey(v.version)) {
      return parsed.get(v.version);
    }
    Parsed result = null;
    try {
      ReferenceProfile p = ProfileBytes.read(v.profile);
      Map<String, FeatureProfile> m = new HashMap<>();
      p.getFeatures().forEach(f -> m.put(f.getName(), f));
      if (p.getScore() != null) {
        m.put(p.getScore().getName(), p.getScore());
      }
      Map<Integer, HourScoreProfile> byHour = new HashMap<>();
      p.getScoreByHour().forEach(h -> byHour.put(h.getHour(), h));
      result = new Parsed(p.getN(), m, byHour);
    } catch (IOException | AvroRuntimeException e) {
      log.warn(
          "drift: the reference profile of version {} of model {} cannot be decoded ({}): windows"
              + " wait for the next registry record of a production version (counted in"
              + " drift.windows.undecodable.reference; the state of an earlier build, restored into"
              + " one with another ReferenceProfile schema?)",
          v.version,
          modelName,
          e.toString());
    }
    parsed.put(v.version, result);
    return result;
  }
}
