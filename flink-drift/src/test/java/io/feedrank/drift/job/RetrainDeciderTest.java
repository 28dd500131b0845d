package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The decision function in Flink's operator harness: real keyed state, timers, watermarks and side
 * outputs.
 */
class RetrainDeciderTest {
  static final long W = 300_000; // 5-minute windows
  static final long HOUR = 3_600_000;

  KeyedOneInputStreamOperatorTestHarness<String, Report, Command> h;

  @BeforeEach
  void open() throws Exception {
    open(Duration.ofHours(1));
  }

  void open(Duration cooldown) throws Exception {
    h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(new RetrainDecider(2, 500, cooldown)),
            r -> r.modelName,
            Types.STRING);
    h.open();
  }

  @AfterEach
  void close() throws Exception {
    h.close();
  }

  static Report report(String feature, int window, boolean drifted, long n, String reference) {
    Report r = new Report();
    r.modelName = "m";
    r.referenceVersion = reference;
    r.referenceSequence = Long.parseLong(reference.substring(1)); // v1's registry record first
    r.feature = feature;
    r.kind = "NUMERIC";
    r.windowStart = window * W;
    r.windowEnd = (window + 1) * W;
    r.n = n;
    r.sampleSize = n; // a feature's values are its examples'
    r.psi = drifted ? 0.4 : 0.01;
    r.drifted = drifted;
    return r;
  }

  /**
   * Drifted, of enough data, against {@code version} as registry record {@code sequence} made it.
   */
  static Report drifted(String feature, int window, String version, long sequence) {
    Report r = report(feature, window, true, 1_000, version);
    r.referenceSequence = sequence;
    return r;
  }

  /** The one command issued so far. */
  Command onlyCommand() {
    assertThat(commands()).hasSize(1);
    return commands().get(0);
  }

  /** The decider again, without a cooldown: only the episode stands between two commands. */
  void withoutCooldown() throws Exception {
    h.close();
    open(Duration.ZERO);
  }

  void send(String feature, int window, boolean drifted) throws Exception {
    send(report(feature, window, drifted, 1_000, "v1"));
  }

  void send(Report r) throws Exception {
    h.processElement(new StreamRecord<>(r, r.windowEnd - 1));
  }

  /** The watermark past the window: every report of it is in (as the window operator does). */
  void closeWindow(int window) throws Exception {
    h.processWatermark((window + 1) * W - 1);
  }

  List<Command> commands() {
    return h.extractOutputValues();
  }

  @Test
  void aSingleDriftedWindowIsNotEnough() throws Exception {
    send("x", 0, false);
    send("x", 1, true);
    send("x", 2, false);
    send("x", 3, true);
    closeWindow(3);
    assertThat(commands()).isEmpty();
    assertThat(h.getSideOutput(RetrainDecider.ALERTS)).hasSize(2); // one per streak
  }

  @Test
  void driftPersistingForTwoWindowsIssuesOneCommandWithTheEvidence() throws Exception {
    send("x", 0, true);
    send("y", 0, true);
    closeWindow(0);
    send("x", 1, true); // y has no report of window 1 (no values): its streak is broken
    assertThat(commands()).as("held until the watermark passes the window").isEmpty();
    closeWindow(1);
    assertThat(commands()).hasSize(1);
    Command c = commands().get(0);
    assertThat(c.reason).isEqualTo("FEATURE_DRIFT");
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
    assertThat(c.evidence.get(0).consecutiveWindows).isEqualTo(2);
    assertThat(c.issuedAt).isEqualTo(2 * W);
    // the episode goes on, y joins it: still one command
    send("y", 2, true);
    send("x", 2, true);
    send("y", 3, true);
    send("x", 3, true);
    closeWindow(3);
    assertThat(commands()).hasSize(1);
  }

  @Test
  void aGapBreaksTheStreak() throws Exception {
    send("x", 0, true);
    send("x", 2, true); // window 1 missing
    closeWindow(2);
    assertThat(commands()).isEmpty();
    send("x", 3, true);
    closeWindow(3);
    assertThat(commands()).hasSize(1);
  }

  @Test
  void windowsBelowTheMinimumSampleNeitherCountNorBreak() throws Exception {
    send("x", 0, true);
    send(report("x", 1, true, 10, "v1")); // too small: does not count
    closeWindow(1);
    assertThat(commands()).isEmpty();
    send(report("x", 2, false, 10, "v1")); // nor does a small undrifted one end the streak
    closeWindow(2);
    assertThat(commands()).isEmpty();
    send("x", 3, true); // the streak's second window of enough data
    closeWindow(3);
    Command c = onlyCommand();
    assertThat(c.issuedAt).isEqualTo(4 * W);
    assertThat(c.evidence.get(0).consecutiveWindows).isEqualTo(2);
    assertThat(h.getSideOutput(RetrainDecider.ALERTS)).hasSize(1); // one streak
  }

  @Test
  void aNewEpisodeWithinTheCooldownWaitsForIt() throws Exception {
    send("x", 0, true);
    send("x", 1, true); // command at 2W
    send("x", 2, false); // episode over
    send("x", 3, true);
    send("x", 4, true); // persisted again at 5W, but 5W - 2W < 1 h
    closeWindow(4);
    assertThat(commands()).hasSize(1);
    int w = 5;
    while ((w + 1) * W - 2 * W < HOUR) {
      send("x", w++, true);
    }
    closeWindow(w - 1);
    assertThat(commands()).hasSize(1);
    send("x", w, true); // window ending 1 h after the first command
    closeWindow(w);
    assertThat(commands()).hasSize(2);
    assertThat(commands().get(1).issuedAt - commands().get(0).issuedAt).isEqualTo(HOUR);
  }

  @Test
  void aFeatureThatStopsReportingEndsItsStreakAndTheEpisodeWithIt() throws Exception {
    send("x", 0, true);
    send("y", 0, false);
    send("x", 1, true); // command at 2W
    send("y", 1, false);
    closeWindow(1);
    assertThat(commands()).hasSize(1);
    // x is no longer reported (dropped from monitoring, or quiet); y is, and does not drift
    int w = 2;
    while ((w + 2) * W - 2 * W < HOUR) {
      send("y", w++, false);
    }
    // y drifts past the cooldown: a new episode, a new command naming y alone
    send("y", w++, true);
    send("y", w, true);
    closeWindow(w);
    assertThat(commands()).hasSize(2);
    assertThat(commands().get(1).evidence).extracting(e -> e.feature).containsExactly("y");
  }

  @Test
  void aNewReferenceVersionStartsOver() throws Exception {
    send("x", 0, true);
    send(report("x", 1, true, 1_000, "v2")); // the serving model changed: streak restarts
    closeWindow(1);
    assertThat(commands()).isEmpty();
    send(report("x", 2, true, 1_000, "v2"));
    closeWindow(2);
    assertThat(commands()).hasSize(1);
    assertThat(commands().get(0).referenceVersion).isEqualTo("v2");
  }

  @Test
  void scoreDriftAloneIsPredictionDrift() throws Exception {
    Report a = report("score", 0, true, 1_000, "v1");
    a.kind = "PREDICTION";
    Report b = report("score", 1, true, 1_000, "v1");
    b.kind = "PREDICTION";
    send(a);
    send(b);
    closeWindow(1);
    assertThat(commands()).singleElement().extracting(c -> c.reason).isEqualTo("PREDICTION_DRIFT");
  }

  @Test
  void aWindowsReportsAreTakenTogetherWhateverOrderTheyArriveIn() throws Exception {
    Report s0 = report("score", 0, true, 1_000, "v1");
    s0.kind = "PREDICTION";
    Report s1 = report("score", 1, true, 1_000, "v1");
    s1.kind = "PREDICTION";
    send("y", 0, true);
    send(s0);
    send("x", 0, true);
    closeWindow(0);
    // window 1: the score's report first, then x's and y's (other evaluator subtasks)
    send(s1);
    send("y", 1, true);
    send("x", 1, true);
    closeWindow(1);
    Command c = onlyCommand();
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("score", "x", "y");
    assertThat(c.reason).as("not the score's alone").isEqualTo("FEATURE_DRIFT");
    assertThat(c.issuedAt).isEqualTo(2 * W);
  }

  @Test
  void reportsEvaluatedLateAreTakenAtTheNextWatermarkInWindowOrder() throws Exception {
    h.processWatermark(10 * W); // windows 0 to 9 are past: their reports were evaluated late
    send("x", 1, true);
    send("y", 1, true);
    send("x", 0, true);
    assertThat(commands()).isEmpty();
    closeWindow(10);
    Command c = onlyCommand();
    assertThat(c.issuedAt).isEqualTo(2 * W);
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
  }

  @Test
  void aPromotionBetweenAWindowsReportsStartsOverOnce() throws Exception {
    send("x", 0, true);
    send("y", 0, true);
    closeWindow(0);
    // window 1: x's evaluator saw the new production version before its report, y's after
    send(report("x", 1, true, 1_000, "v2"));
    send("y", 1, true);
    closeWindow(1);
    assertThat(commands()).as("v2 starts over; y's v1 streak is gone with it").isEmpty();
    send(report("y", 2, true, 1_000, "v2"));
    send(report("x", 2, true, 1_000, "v2"));
    closeWindow(2);
    Command c = onlyCommand();
    assertThat(c.referenceVersion).isEqualTo("v2");
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
  }

  @Test
  void aReportAgainstAReplacedReferenceInALaterWindowIsLeftOut() throws Exception {
    send("x", 0, true);
    closeWindow(0);
    send(report("x", 1, true, 1_000, "v2")); // v2 in force from window 1
    closeWindow(1);
    // window 2: y's evaluator subtask has not learned of v2 yet
    send(report("x", 2, true, 1_000, "v2"));
    send(report("y", 2, true, 1_000, "v1"));
    closeWindow(2);
    Command c = onlyCommand();
    assertThat(c.referenceVersion).isEqualTo("v2");
    assertThat(c.commandId).isEqualTo("m/v2/" + 3 * W);
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
  }

  @Test
  void aRollbackMakesTheVersionItReplacedStale() throws Exception {
    send("x", 0, true);
    closeWindow(0);
    Report v2 = report("x", 1, true, 1_000, "v2"); // v2, made production by registry record 2
    send(v2);
    closeWindow(1);
    // rolled back: v1 again, by registry record 3 — v2 is stale from then on
    send(report("y", 2, true, 1_000, "v2")); // a subtask that has not learned of it
    send(drifted("x", 2, "v1", 3));
    closeWindow(2);
    assertThat(commands()).as("x's streak against v1 started over at window 2").isEmpty();
    send(drifted("x", 3, "v1", 3));
    send(report("y", 3, true, 1_000, "v2"));
    closeWindow(3);
    Command c = onlyCommand();
    assertThat(c.commandId).isEqualTo("m/v1/" + 4 * W);
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
    assertThat(c.evidence.get(0).consecutiveWindows).isEqualTo(2);
  }

  @Test
  void aRollbackToTheVersionInForceStartsNothingOver() throws Exception {
    withoutCooldown();
    send("x", 0, true);
    closeWindow(0);
    // v2 was promoted (record 2) and rolled back (record 3) before any report against v2 came;
    // one subtask evaluated window 1 against v2 all the same
    send(report("a", 1, true, 1_000, "v2")); // taken before x's, by feature
    send(drifted("x", 1, "v1", 3));
    closeWindow(1);
    Command c = onlyCommand();
    assertThat(c.commandId).isEqualTo("m/v1/" + 2 * W);
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
    // window 2 has only a report against v2: older than v1's record 3, so the episode goes on
    send(report("a", 2, true, 1_000, "v2"));
    closeWindow(2);
    for (int w = 3; w <= 4; w++) {
      send(drifted("x", w, "v1", 3));
      closeWindow(w);
    }
    assertThat(commands()).hasSize(1);
  }

  @Test
  void aWindowWithOnlyAReportAgainstAReplacedReferenceChangesNothing() throws Exception {
    withoutCooldown();
    send(report("x", 0, true, 1_000, "v2"));
    closeWindow(0);
    send(report("x", 1, true, 1_000, "v2")); // command at 2W
    closeWindow(1);
    send("y", 2, true); // against v1 (record 1), replaced by v2 (record 2); x has no report
    closeWindow(2);
    send(report("x", 3, true, 1_000, "v2"));
    closeWindow(3);
    send(report("x", 4, true, 1_000, "v2"));
    closeWindow(4);
    // the episode goes on through window 2: no second command
    assertThat(commands()).singleElement().satisfies(c -> assertThat(c.issuedAt).isEqualTo(2 * W));
  }

  @Test
  void aReferenceRestoredWithoutASequenceIsOlderThanAnyReadSince() throws Exception {
    // v1 came from a checkpoint taken before sequences were kept (0); v2 is read after it
    send(drifted("x", 0, "v1", 0));
    closeWindow(0);
    for (int w = 1; w <= 2; w++) {
      send(drifted("a", w, "v1", 0)); // a subtask that learned of v2 late
      send(drifted("x", w, "v2", 5));
      closeWindow(w);
    }
    Command c = onlyCommand();
    assertThat(c.commandId).isEqualTo("m/v2/" + 3 * W);
    assertThat(c.evidence).extracting(e -> e.feature).containsExactly("x");
  }

  @Test
  void afterTheEndOfTheInputAReportIsDecidedAtOnce() throws Exception {
    // a bounded run: windows evaluated when the first production model was read, after the
    // values' end had taken the watermark to its maximum, where no timer fires any more
    h.processWatermark(Long.MAX_VALUE);
    send("x", 0, true);
    send("x", 1, true);
    assertThat(commands()).singleElement().satisfies(c -> assertThat(c.issuedAt).isEqualTo(2 * W));
  }

  /** 400 responses of 100 scores: 40,000 values, but a sample of 400 (min.sample is 500). */
  static Report scores(int window, long responses) {
    Report r = report("score", window, true, responses * 100, "v1");
    r.kind = "PREDICTION";
    r.sampleSize = responses;
    return r;
  }

  @Test
  void theMinimumSampleCountsTheScoresResponsesNotTheScores() throws Exception {
    send(scores(0, 400));
    send(scores(1, 400));
    send(scores(2, 400));
    closeWindow(2);
    assertThat(commands()).isEmpty();
    assertThat(h.getSideOutput(RetrainDecider.ALERTS)).isNullOrEmpty();
    send(scores(3, 600));
    send(scores(4, 600));
    closeWindow(4);
    Command c = onlyCommand();
    assertThat(c.evidence)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.n).isEqualTo(60_000);
              assertThat(e.sampleSize).isEqualTo(600);
              assertThat(e.windowStart).isEqualTo(4 * W);
            });
  }
}
