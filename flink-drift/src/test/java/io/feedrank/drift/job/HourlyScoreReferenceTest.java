package io.feedrank.drift.job;

import static io.feedrank.drift.job.DriftEvaluatorTest.harness;
import static io.feedrank.drift.job.DriftEvaluatorTest.reference;
import static io.feedrank.drift.job.DriftEvaluatorTest.summary;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.ReferenceProfile;
import io.feedrank.models.profile.ProfileBuilder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Score windows against the reference's scores of their own UTC hour of day. The holdout covers a
 * day whose scores follow the daily cycle as the simulator's click model does: {@code p =
 * sigmoid(-2.2 + 0.3 cos(2π(h - 20)/24) + u)}, u ~ N(0, 0.5²) the row's own level (the scores
 * themselves, no clicks drawn). Live windows draw from the same function at 08:00 (trough) and
 * 20:00 (peak) UTC: against the whole day their mean is about 24% under and 27% over its mean, far
 * past the 10% of {@code mean.change.threshold}, though nothing changed.
 */
class HourlyScoreReferenceTest {
  static final long HOUR = 3_600_000L;
  static final long DAY = 24 * HOUR;
  static final int PER_HOUR = 2_000;

  /** The click model's logit at hour {@code h}, before the row's own level. */
  static double logit(int h) {
    return -2.2 + 0.3 * Math.cos(2 * Math.PI * (h - 20) / 24.0);
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** A holdout day, {@link #PER_HOUR} rows an hour but {@code thinRows} at {@code thinHour}. */
  static ReferenceProfile holdoutDay(Random r, int thinHour, int thinRows) {
    ProfileBuilder b = new ProfileBuilder();
    for (int h = 0; h < 24; h++) {
      for (int i = 0; i < (h == thinHour ? thinRows : PER_HOUR); i++) {
        b.score(sigmoid(logit(h) + 0.5 * r.nextGaussian()), h);
      }
    }
    return b.build();
  }

  /**
   * The 5-minute window from {@code hour}:00 UTC, three days on, of 400 responses of 20 scores of
   * version v1, drawn with the logit moved by {@code shift}.
   */
  static WindowSummary window(Random r, int hour, double shift) {
    String key = FeatureValue.versioned(ProfileBuilder.SCORE, "v1");
    long start = 3 * DAY + hour * HOUR;
    SketchAccumulator acc = new SketchAccumulator();
    for (int response = 0; response < 400; response++) {
      double[] scores = new double[20];
      for (int j = 0; j < scores.length; j++) {
        scores[j] = sigmoid(logit(hour) + shift + 0.5 * r.nextGaussian());
      }
      acc.add(FeatureValue.scores(key, scores, start + response * 750L));
    }
    WindowSummary s = summary(key, "PREDICTION", acc);
    s.windowStart = start;
    s.windowEnd = start + 300_000;
    return s;
  }

  /** The reports of {@code windows} against {@code profile} as version v1's, in order. */
  static List<Report> judged(ReferenceProfile profile, WindowSummary... windows) throws Exception {
    try (var h = harness()) {
      h.processBroadcastElement(reference("v1", 10, profile), 0);
      for (WindowSummary w : windows) {
        h.processElement(w, w.windowEnd - 1);
      }
      return h.extractOutputValues();
    }
  }

  @Test
  void anUnchangedDaysScoresAtTroughAndPeakAreNotDrifted() throws Exception {
    Random r = new Random(41);
    ReferenceProfile day = holdoutDay(r, -1, 0);
    List<Report> reports = judged(day, window(r, 8, 0), window(r, 20, 0));
    assertThat(reports)
        .extracting(x -> x.referenceHour + " drifted " + x.drifted)
        .containsExactly("8 drifted false", "20 drifted false");
    assertThat(reports)
        .allSatisfy(
            x -> {
              assertThat(x.referenceN).isEqualTo(PER_HOUR);
              assertThat(Math.abs(x.meanRelativeChange)).isLessThan(0.03);
            });
  }

  /** The check still works: a window whose logits are 1 lower than its hour's is drifted. */
  @Test
  void aWindowShiftedAgainstItsOwnHourIsDrifted() throws Exception {
    Random r = new Random(43);
    Report shifted = judged(holdoutDay(r, -1, 0), window(r, 20, -1)).get(0);
    assertThat(shifted.referenceHour).isEqualTo(20);
    assertThat(shifted.drifted).isTrue();
    assertThat(shifted.meanRelativeChange).isLessThan(-0.4);
  }

  /**
   * An hour of fewer holdout scores than the evaluator's minimum ({@code MIN_HOUR_SCORES}, 1,000)
   * judges nothing: its window is set against the whole holdout, as before the hours were profiled,
   * and the report says so (no hour, the holdout's rows).
   */
  @Test
  void aWindowOfAnHourWithFewHoldoutScoresIsJudgedAgainstTheWholeHoldout() throws Exception {
    Random r = new Random(47);
    ReferenceProfile day = holdoutDay(r, 3, 300);
    List<Report> reports = judged(day, window(r, 3, 0), window(r, 20, 0));
    assertThat(reports.get(0).referenceHour).isNull();
    assertThat(reports.get(0).referenceN).isEqualTo(23 * PER_HOUR + 300);
    assertThat(reports.get(0).referenceMean).isEqualTo(day.getScore().getMean());
    assertThat(reports.get(1).referenceHour).isEqualTo(20);
  }
}
