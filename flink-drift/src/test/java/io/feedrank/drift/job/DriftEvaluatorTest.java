package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.models.profile.ProfileBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One window against one reference, with every figure computed by hand. */
class DriftEvaluatorTest {
  final DriftEvaluator evaluator = new DriftEvaluator("m", DriftThresholdsConfig.defaults());

  /** The evaluator as an operator: windows keyed by feature, serving models broadcast. */
  static KeyedBroadcastOperatorTestHarness<String, WindowSummary, ServingReference, Report>
      harness() throws Exception {
    return harness(new DriftEvaluator("m", DriftThresholdsConfig.defaults()));
  }

  /** {@code f} as an operator (its counters read through {@code f}). */
  static KeyedBroadcastOperatorTestHarness<String, WindowSummary, ServingReference, Report> harness(
      DriftEvaluator f) throws Exception {
    return ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
        f, (WindowSummary w) -> w.feature, Types.STRING, DriftEvaluator.REGISTRY);
  }

  /** What may throw: a test's body. */
  interface Body {
    void run() throws Exception;
  }

  /** The WARN messages the evaluator logs while {@code body} runs. */
  static List<String> warnings(Body body) throws Exception {
    return warnings(DriftEvaluator.class, body);
  }

  /** The WARN messages {@code source}'s logger logs while {@code body} runs. */
  static List<String> warnings(Class<?> source, Body body) throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(source);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      body.run();
    } finally {
      logger.detachAppender(logs);
    }
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  static WindowSummary numericWindow(int from, int to) {
    SketchAccumulator acc = new SketchAccumulator();
    for (int v = from; v <= to; v++) {
      acc.add(FeatureValue.numeric("x", "NUMERIC", v, 0));
    }
    return summary("x", "NUMERIC", acc);
  }

  /** The window's summary, as {@link WindowAggregation.Summarize} makes it. */
  static WindowSummary summary(String feature, String kind, SketchAccumulator acc) {
    acc.fold();
    WindowSummary s = new WindowSummary();
    s.feature = feature;
    s.kind = kind;
    s.n = acc.n;
    s.sampleSize = acc.units;
    s.sum = acc.sum;
    s.sketch = acc.sketch;
    return s;
  }

  @Test
  void aShiftedNumericWindowAgainstDecileBins() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v); // fewer values than k: edges exactly 10, 20, ..., 90, fractions 0.1
    }
    FeatureProfile ref = b.build().getFeatures().get(0);
    Report r = evaluator.evaluate(numericWindow(51, 150), ref, "v1", 100);
    // window 51..150 in the reference bins: five empty, four with 0.1, the last with 0.6;
    // PSI = 5 (1e-4 - 0.1) ln(1e-4 / 0.1) + (0.6 - 0.1) ln 6
    double expected = 5 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1) + 0.5 * Math.log(6);
    assertThat(r.psi).isCloseTo(expected, within(1e-9));
    // KS: F_ref(50) = 0.5, F_win(50) = 0; both sketches exact
    assertThat(r.ksStatistic).isCloseTo(0.5, within(1e-12));
    // sqrt(100 * 100 / 200) * 0.5 = 3.54: the Kolmogorov tail there is ~2 e^-25
    assertThat(r.ksPValue).isLessThan(1e-9);
    assertThat(r.mean).isEqualTo(100.5);
    assertThat(r.meanRelativeChange).isCloseTo(50.0 / 50.5, within(1e-12));
    assertThat(r.drifted).isTrue();
    assertThat(r.referenceVersion).isEqualTo("v1");
    assertThat(r.referenceN).isEqualTo(100);
  }

  /**
   * Five responses of 20 scores: the KS p-value takes 5 as the window's sample, not 100. Reference
   * k/150 (k = 1..150), window 0.5 + k/200 (k = 0..99); scipy: {@code ks_2samp(ref, win).statistic}
   * = 74/150 = 0.49333, {@code kstwobign.sf(sqrt(150·5/155) · D)} = 0.189574 (with 100 it would be
   * 4.14e-13).
   */
  @Test
  void aScoreWindowsKsPValueCountsItsResponses() {
    ProfileBuilder b = new ProfileBuilder();
    for (int k = 1; k <= 150; k++) {
      b.score(k / 150.0);
    }
    FeatureProfile ref = b.build().getScore();
    SketchAccumulator acc = new SketchAccumulator();
    for (int response = 0; response < 5; response++) {
      double[] scores = new double[20];
      for (int j = 0; j < 20; j++) {
        scores[j] = 0.5 + (response * 20 + j) / 200.0;
      }
      acc.add(FeatureValue.scores("score", scores, 0));
    }
    Report r = evaluator.evaluate(summary("score", "PREDICTION", acc), ref, "v1", 150);
    assertThat(r.n).isEqualTo(100);
    assertThat(r.sampleSize).isEqualTo(5);
    assertThat(r.ksStatistic).isCloseTo(74 / 150.0, within(1e-12));
    assertThat(r.ksPValue).isCloseTo(0.18957400540264857, within(1e-9));
    // a feature's window (one unit per value) keeps its values as its sample
    Report f = evaluator.evaluate(numericWindow(51, 150), ref, "v1", 150);
    assertThat(f.sampleSize).isEqualTo(100);
  }

  /**
   * Scores are judged against their own model version's reference only: a window of the version
   * before a promotion (served by a ranker that has not swapped yet, or that refused the new model)
   * is not measured against the new model's reference, and is counted; one of the serving version
   * is reported under {@code score}. A window that waited for the first production model is dropped
   * too when that model is another version.
   */
  @Test
  void scoresAreJudgedAgainstTheirOwnVersionsReferenceOnly() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    for (int k = 1; k <= 150; k++) {
      b.score(k / 150.0);
    }
    ReferenceProfile profile = b.build();
    DriftEvaluator f = new DriftEvaluator("m", DriftThresholdsConfig.defaults());
    try (var h = harness(f)) {
      h.processElement(scoreWindow("v0"), 0); // waits for a production model, then is v0's
      h.processBroadcastElement(reference("v1", 10, profile), 1);
      assertThat(h.extractOutputValues()).isEmpty();
      assertThat(f.otherVersion()).isEqualTo(1);

      h.processElement(scoreWindow("v1"), 2);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.feature).isEqualTo("score");
                assertThat(r.referenceVersion).isEqualTo("v1");
                assertThat(r.n).isEqualTo(100);
              });

      h.processBroadcastElement(reference("v2", 20, profile), 3); // promoted
      h.processElement(scoreWindow("v1"), 4); // a ranker still serving v1
      assertThat(h.extractOutputValues()).hasSize(1);
      assertThat(f.otherVersion()).isEqualTo(2);
      h.processElement(scoreWindow("v2"), 5);
      assertThat(h.extractOutputValues()).hasSize(2);
      assertThat(h.extractOutputValues().get(1).referenceVersion).isEqualTo("v2");
      assertThat(h.extractOutputValues().get(1).feature).isEqualTo("score");
    }
  }

  /** Five responses of 20 scores (0.5 + k/200), the window of {@code version}'s scores. */
  static WindowSummary scoreWindow(String version) {
    SketchAccumulator acc = new SketchAccumulator();
    for (int response = 0; response < 5; response++) {
      double[] scores = new double[20];
      for (int j = 0; j < 20; j++) {
        scores[j] = 0.5 + (response * 20 + j) / 200.0;
      }
      String key = FeatureValue.versioned("score", version);
      acc.add(FeatureValue.scores(key, scores, 0));
    }
    return summary(FeatureValue.versioned("score", version), "PREDICTION", acc);
  }

  /**
   * Values that are not finite (a producer's NaN feature, an infinite score) are left out of the
   * window: the report is that of the window without them, and a window of nothing else is no
   * report (it once failed the job at each restart on the empty sketch).
   */
  @Test
  void valuesThatAreNotFiniteAreLeftOutOfTheWindow() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v);
    }
    FeatureProfile ref = b.build().getFeatures().get(0);
    SketchAccumulator acc = new SketchAccumulator();
    double[] odd = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    // one response whose scores are all NaN is no sampling unit
    acc.add(FeatureValue.scores("x", new double[] {Double.NaN, Double.NaN}, 0));
    for (int v = 51; v <= 150; v++) {
      acc.add(FeatureValue.numeric("x", "NUMERIC", v, 0));
      acc.add(FeatureValue.numeric("x", "NUMERIC", odd[v % 3], 0));
    }
    Report r = evaluator.evaluate(summary("x", "NUMERIC", acc), ref, "v1", 100);
    Report without = evaluator.evaluate(numericWindow(51, 150), ref, "v1", 100);
    assertThat(r.n).isEqualTo(100);
    assertThat(r.sampleSize).isEqualTo(100);
    assertThat(r.psi).isEqualTo(without.psi);
    assertThat(r.ksStatistic).isEqualTo(without.ksStatistic);
    assertThat(r.mean).isEqualTo(100.5);

    SketchAccumulator scores = new SketchAccumulator();
    scores.add(FeatureValue.scores("x", new double[] {0.5, Double.NaN, 0.7}, 0));
    assertThat(summary("x", "PREDICTION", scores).n).isEqualTo(2);
    assertThat(summary("x", "PREDICTION", scores).sum).isCloseTo(1.2, within(1e-12));
  }

  /** A window of nothing but values that are not finite is no report, and the next one is. */
  @Test
  void aWindowOfOnlyValuesThatAreNotFiniteIsNoReport() throws Exception {
    SketchAccumulator nothing = new SketchAccumulator();
    for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NaN}) {
      nothing.add(FeatureValue.numeric("x", "NUMERIC", v, 0));
    }
    try (var h = harness()) {
      h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 0);
      h.processElement(summary("x", "NUMERIC", nothing), 1);
      h.processElement(numericWindow(1, 100), 2);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(o -> assertThat(o.n).isEqualTo(100));
    }
  }

  @Test
  void theSameDistributionDoesNotDrift() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v);
    }
    Report r = evaluator.evaluate(numericWindow(1, 100), b.build().getFeatures().get(0), "v1", 100);
    assertThat(r.psi).isCloseTo(0.0, within(1e-12));
    assertThat(r.ksStatistic).isEqualTo(0.0);
    assertThat(r.drifted).isFalse();
  }

  @Test
  void categoriesIncludingOneTheReferenceNeverSaw() {
    ProfileBuilder b = new ProfileBuilder();
    int c = b.categorical("device");
    for (int i = 0; i < 100; i++) {
      b.addCategory(c, i < 50 ? "A" : i < 80 ? "B" : "C");
    }
    FeatureProfile ref = b.build().getFeatures().get(0);
    WindowSummary s = new WindowSummary();
    s.feature = "device";
    s.kind = "CATEGORICAL";
    s.n = 100;
    s.counts = new java.util.HashMap<>(java.util.Map.of("A", 20L, "B", 30L, "C", 40L, "D", 10L));
    Report r = evaluator.evaluate(s, ref, "v1", 100);
    // bins A, B, C, unseen: expected .5 .3 .2 0 (→ 1e-4), actual .2 .3 .4 .1
    double psi =
        (0.2 - 0.5) * Math.log(0.2 / 0.5)
            + (0.4 - 0.2) * Math.log(0.4 / 0.2)
            + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
    assertThat(r.psi).isCloseTo(psi, within(1e-9));
    // the two samples, reference 50 30 20 0 (its 100 rows) and window 20 30 40 10:
    // scipy.stats.chi2_contingency([[50, 30, 20, 0], [20, 30, 40, 10]], correction=False)
    assertThat(r.chi2Statistic).isCloseTo(29.523809523809526, within(1e-9));
    assertThat(r.chi2PValue).isCloseTo(1.737956401921369e-06, within(1e-12));
    assertThat(r.ksStatistic).isNull();
    assertThat(r.drifted).isTrue();
  }

  /** A registry record of model {@code m}, with the profile of x = from..to. */
  static ServingReference reference(
      String model, String version, String stage, long updatedAt, int from, int to)
      throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = from; v <= to; v++) {
      b.add(x, v);
    }
    ServingReference r = new ServingReference();
    r.modelName = model;
    r.version = version;
    r.stage = stage;
    r.updatedAt = updatedAt;
    r.profile = ProfileBytes.of(b.build());
    return r;
  }

  /**
   * The broadcast side as an operator: windows wait for the first production model; a staging
   * version and another model change nothing; a promotion switches the reference for the windows
   * after it.
   */
  @Test
  void windowsAreMeasuredAgainstTheServingModelAndAPromotionSwitchesTheReference()
      throws Exception {
    try (var h = harness()) {
      h.processElement(numericWindow(1, 100), 0);
      assertThat(h.extractOutputValues()).as("no production model yet: the window waits").isEmpty();

      // v1 (x = 1..100) arrives: the waiting window is evaluated against it, and matches it
      h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 1);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.referenceVersion).isEqualTo("v1");
                assertThat(r.referenceN).isEqualTo(100);
                assertThat(r.drifted).isFalse();
              });

      // a staging candidate and another model's production version change nothing
      h.processBroadcastElement(reference("m", "v2", "STAGING", 20, 51, 250), 2);
      h.processBroadcastElement(reference("other", "w9", "PRODUCTION", 30, 500, 600), 3);
      h.processElement(numericWindow(51, 150), 4);
      Report beforePromotion = h.extractOutputValues().get(1);
      assertThat(beforePromotion.referenceVersion).isEqualTo("v1");
      assertThat(beforePromotion.drifted).isTrue(); // 51..150 against 1..100 (see above)

      // v2 (x = 51..250, 200 values) promoted: the same window is now measured against it
      h.processBroadcastElement(reference("m", "v2", "PRODUCTION", 40, 51, 250), 5);
      h.processElement(numericWindow(51, 150), 6);
      Report afterPromotion = h.extractOutputValues().get(2);
      assertThat(afterPromotion.referenceVersion).isEqualTo("v2");
      assertThat(afterPromotion.referenceN).isEqualTo(200);
      // against v2's bins the same window has another PSI
      assertThat(afterPromotion.psi).isNotCloseTo(beforePromotion.psi, within(1e-3));
      assertThat(h.extractOutputValues()).hasSize(3);
    }
  }

  /**
   * Between a rollback's two records (the old version production again, then the newer one
   * archived) both are production: the window is measured against the one made production last in
   * the registry topic, though the rollback's writer had a clock behind the promotion's.
   */
  @Test
  void betweenARollbacksTwoRecordsTheVersionMadeProductionLastInTheTopicIsTheReference()
      throws Exception {
    try (var h = harness()) {
      h.processBroadcastElement(sequenced(reference("m", "v1", "PRODUCTION", 10, 1, 100), 1), 0);
      h.processBroadcastElement(sequenced(reference("m", "v2", "PRODUCTION", 40, 51, 250), 2), 1);
      h.processBroadcastElement(sequenced(reference("m", "v1", "ARCHIVED", 40, 1, 100), 3), 2);
      // the rollback: v1 production again, written at 30 by a clock behind the promotion's 40
      h.processBroadcastElement(sequenced(reference("m", "v1", "PRODUCTION", 30, 1, 100), 4), 3);
      h.processElement(numericWindow(1, 100), 4);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.referenceVersion).isEqualTo("v1");
                assertThat(r.referenceN).isEqualTo(100);
                assertThat(r.drifted).isFalse();
              });
    }
  }

  private static ServingReference sequenced(ServingReference r, long sequence) {
    r.sequence = sequence;
    return r;
  }

  /**
   * The broadcast state keeps the production versions only: retrains that leave candidates,
   * rejected, staged and archived versions behind do not grow it (nor every checkpoint).
   */
  @Test
  void theBroadcastStateKeepsOnlyProductionVersions() throws Exception {
    try (var h = harness()) {
      h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 0);
      for (int i = 0; i < 30; i++) {
        String stage = i % 3 == 0 ? "REJECTED" : i % 3 == 1 ? "CANDIDATE" : "STAGING";
        h.processBroadcastElement(reference("m", "c" + i, stage, 11 + i, 1, 100), 1 + i);
      }
      h.processBroadcastElement(reference("m", "v2", "PRODUCTION", 50, 51, 250), 40);
      h.processBroadcastElement(reference("m", "v1", "ARCHIVED", 50, 1, 100), 41);
      java.util.Set<String> kept = new java.util.HashSet<>();
      h.getBroadcastState(DriftEvaluator.REGISTRY)
          .immutableEntries()
          .forEach(e -> kept.add(e.getKey()));
      assertThat(kept).containsExactly("v2");
      // and windows are measured against it
      h.processElement(numericWindow(51, 150), 42);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(r -> assertThat(r.referenceVersion).isEqualTo("v2"));
    }
  }

  /**
   * State restored from a job of another model (the Flink operator's last-state upgrade after
   * {@code model.name} changed) holds that model's production version: it is not this model's
   * reference. The window waits for a production version of {@code m}, and is judged by it.
   */
  @Test
  void anotherModelsProductionVersionInRestoredStateIsNotTheReference() throws Exception {
    OperatorSubtaskState checkpoint;
    try (var h = harness(new DriftEvaluator("a", DriftThresholdsConfig.defaults()))) {
      h.processBroadcastElement(sequenced(reference("a", "a9", "PRODUCTION", 90, 500, 600), 9), 0);
      checkpoint = h.snapshot(1, 1);
    }
    try (var h =
        new KeyedBroadcastOperatorTestHarness<>(
            new CoBroadcastWithKeyedOperator<>(
                new DriftEvaluator("m", DriftThresholdsConfig.defaults()),
                List.of(DriftEvaluator.REGISTRY)),
            (WindowSummary w) -> w.feature,
            Types.STRING,
            1,
            1,
            0)) {
      h.initializeState(checkpoint);
      h.open();
      h.processElement(numericWindow(1, 100), 2);
      assertThat(h.extractOutputValues())
          .extracting(r -> r.referenceVersion)
          .as("the references the window was judged against")
          .isEmpty();
      h.processBroadcastElement(sequenced(reference("m", "v1", "PRODUCTION", 10, 1, 100), 3), 3);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(r -> assertThat(r.referenceVersion).isEqualTo("v1"));
    }
  }

  /** Counts of late values go out with the feature's next report, once. */
  @Test
  void lateValuesAreReportedWithTheNextReportOfTheirFeature() throws Exception {
    try (var h = harness()) {
      h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 0);
      WindowSummary lateX = WindowSummary.late("x", "NUMERIC", 1);
      WindowSummary lateY = WindowSummary.late("y", "NUMERIC", 1);
      h.processElement(lateX, 1);
      h.processElement(lateX, 2);
      h.processElement(lateY, 3);
      assertThat(h.extractOutputValues()).as("a count alone is no report").isEmpty();
      h.processElement(numericWindow(1, 100), 4);
      h.processElement(numericWindow(1, 100), 5);
      assertThat(h.extractOutputValues())
          .extracting(r -> r.lateEvents)
          .as("x's two late values with x's next report, then none; y's is not x's")
          .containsExactly(2L, 0L);
    }
  }

  /** Late values counted before any production model go out with the windows that waited. */
  @Test
  void lateValuesCountedBeforeAnyModelGoOutWithTheWaitingWindows() throws Exception {
    try (var h = harness()) {
      WindowSummary lateX = WindowSummary.late("x", "NUMERIC", 1);
      h.processElement(numericWindow(1, 100), 0);
      h.processElement(lateX, 1);
      h.processElement(numericWindow(1, 100), 2);
      assertThat(h.extractOutputValues()).isEmpty();
      h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 3);
      h.processElement(numericWindow(1, 100), 4);
      assertThat(h.extractOutputValues())
          .extracting(r -> r.lateEvents)
          .as("the count once, with the newest of the waiting windows; none after")
          .containsExactly(0L, 1L, 0L);
    }
  }

  /**
   * With no production model (none promoted yet, or {@code model.name} misspelt) a feature's
   * windows wait, up to {@link DriftEvaluator#MAX_PENDING}: beyond that the oldest are dropped,
   * counted and logged once, so the state and every checkpoint stop growing. A model that comes
   * later has the newest of them evaluated.
   */
  @Test
  void windowsWaitingForAProductionModelAreCappedDroppingTheOldest() throws Exception {
    DriftEvaluator f = new DriftEvaluator("m", DriftThresholdsConfig.defaults());
    long w = 300_000;
    int extra = 5;
    List<String> warned =
        warnings(
            () -> {
              try (var h = harness(f)) {
                for (int i = 0; i < DriftEvaluator.MAX_PENDING + extra; i++) {
                  WindowSummary s = numericWindow(1, 100);
                  s.windowStart = i * w;
                  s.windowEnd = s.windowStart + w;
                  h.processElement(s, s.windowEnd - 1);
                }
                assertThat(h.extractOutputValues()).isEmpty();
                h.processBroadcastElement(reference("m", "v1", "PRODUCTION", 10, 1, 100), 0);
                assertThat(h.extractOutputValues())
                    .extracting(r -> r.windowStart)
                    .as("the newest MAX_PENDING windows, in window order")
                    .containsExactlyElementsOf(
                        LongStream.range(extra, DriftEvaluator.MAX_PENDING + extra)
                            .map(i -> i * w)
                            .boxed()
                            .toList());
              }
            });
    assertThat(f.pendingDropped()).isEqualTo(extra);
    assertThat(warned).singleElement().asString().contains("model m", "feature x");
  }

  /** A production record of model {@code m} with {@code profile}. */
  static ServingReference reference(String version, long updatedAt, ReferenceProfile profile)
      throws Exception {
    ServingReference r = new ServingReference();
    r.modelName = "m";
    r.version = version;
    r.stage = "PRODUCTION";
    r.updatedAt = updatedAt;
    r.profile = ProfileBytes.of(profile);
    return r;
  }

  /** A categorical window of {@code feature}: 60 A, 40 B. */
  static WindowSummary categoricalWindow(String feature) {
    WindowSummary s = new WindowSummary();
    s.feature = feature;
    s.kind = "CATEGORICAL";
    s.counts = new HashMap<>(Map.of("A", 60L, "B", 40L));
    s.n = 100;
    s.sampleSize = 100;
    return s;
  }

  /** A numeric window of {@code feature}, values 1..100. */
  static WindowSummary numericWindow(String feature) {
    WindowSummary s = numericWindow(1, 100);
    s.feature = feature;
    return s;
  }

  /**
   * {@code bad} against a profile {@code b} adds x = 1..100 to, once waiting for the model and once
   * after it, between windows of x: x is reported both times and {@code bad} never; both of its
   * windows are counted, and logged once (per version and feature). The old evaluator threw out of
   * the operator, failing the job at every restart.
   */
  void notEvaluatedWhileTheOthersGoOn(ProfileBuilder b, WindowSummary bad) throws Exception {
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v);
    }
    DriftEvaluator f = new DriftEvaluator("m", DriftThresholdsConfig.defaults());
    List<String> warned =
        warnings(
            () -> {
              try (var h = harness(f)) {
                h.processElement(bad, 0); // waits for a model
                h.processElement(numericWindow("x"), 1);
                h.processBroadcastElement(reference("v1", 10, b.build()), 2);
                h.processElement(bad, 3);
                h.processElement(numericWindow("x"), 4);
                assertThat(h.extractOutputValues())
                    .extracting(r -> r.feature)
                    .containsExactly("x", "x");
              }
            });
    assertThat(f.badReference()).isEqualTo(2);
    assertThat(warned)
        .singleElement()
        .asString()
        .contains("feature " + bad.feature, "reference v1");
  }

  @Test
  void aNumericWindowAgainstACategoricalProfileIsNotEvaluatedAndTheOthersGoOn() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int device = b.categorical("device");
    for (int i = 0; i < 100; i++) {
      b.addCategory(device, i < 50 ? "A" : "B");
    }
    notEvaluatedWhileTheOthersGoOn(b, numericWindow("device"));
  }

  @Test
  void aCategoricalWindowAgainstANumericProfileIsNotEvaluatedAndTheOthersGoOn() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    int length = b.numeric("length");
    for (int v = 1; v <= 100; v++) {
      b.add(length, v);
    }
    notEvaluatedWhileTheOthersGoOn(b, categoricalWindow("length"));
  }

  /**
   * A feature the reference does not profile at all (a model trained before the feature was added)
   * judges no window either; they were passed over with no count and no log line, so no alert saw
   * that the feature's drift went unmeasured.
   */
  @Test
  void aFeatureTheReferenceDoesNotProfileIsNotEvaluatedAndTheOthersGoOn() throws Exception {
    notEvaluatedWhileTheOthersGoOn(new ProfileBuilder(), numericWindow("length"));
  }

  /** A feature the holdout had no values of (no bins) judges no window either. */
  @Test
  void aFeatureWithoutValuesInTheHoldoutIsNotEvaluatedAndTheOthersGoOn() throws Exception {
    ProfileBuilder b = new ProfileBuilder();
    b.numeric("length");
    notEvaluatedWhileTheOthersGoOn(b, numericWindow("length"));
  }

  /**
   * A profile from an empty holdout (0 rows: no bins, no categories) judges no window — the numeric
   * one threw in PSI ("0 expected bins but 1 actual"), the categorical one in the chi-square
   * (reference size 0) — and the next production version, with values, judges them again.
   */
  @Test
  void aProfileFromAnEmptyHoldoutJudgesNoWindowAndTheNextVersionDoes() throws Exception {
    ProfileBuilder empty = new ProfileBuilder();
    empty.numeric("x");
    empty.categorical("device");
    ReferenceProfile none = empty.build();
    assertThat(none.getN()).isZero();
    ProfileBuilder full = new ProfileBuilder();
    int x = full.numeric("x");
    int device = full.categorical("device");
    for (int v = 1; v <= 100; v++) {
      full.add(x, v);
      full.addCategory(device, v <= 60 ? "A" : "B");
    }
    DriftEvaluator f = new DriftEvaluator("m", DriftThresholdsConfig.defaults());
    List<String> warned =
        warnings(
            () -> {
              try (var h = harness(f)) {
                h.processBroadcastElement(reference("v1", 10, none), 0);
                h.processElement(categoricalWindow("device"), 1);
                h.processElement(numericWindow("x"), 2);
                h.processElement(categoricalWindow("device"), 3);
                assertThat(h.extractOutputValues()).isEmpty();
                h.processBroadcastElement(reference("v2", 20, full.build()), 4);
                h.processElement(categoricalWindow("device"), 5);
                h.processElement(numericWindow("x"), 6);
                assertThat(h.extractOutputValues())
                    .extracting(r -> r.feature + "@" + r.referenceVersion + " drifted " + r.drifted)
                    .containsExactly("device@v2 drifted false", "x@v2 drifted false");
              }
            });
    assertThat(f.badReference()).isEqualTo(3);
    assertThat(warned).hasSize(2).allMatch(w -> w.contains("reference v1"));
  }
}
