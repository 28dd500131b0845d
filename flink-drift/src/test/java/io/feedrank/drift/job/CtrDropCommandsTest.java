package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PERFORMANCE_DROP commands in Flink's keyed two-input harness: a 20% drop against the first 3
 * windows of at least 1,000 impressions, 2 low windows in a row, one-sided p below 0.01. The
 * p-values that decide the cases are scipy's (see StatisticsTest).
 */
class CtrDropCommandsTest {
  static final long W = 300_000;

  KeyedTwoInputStreamOperatorTestHarness<String, OnlineCtr.Window, ServingReference, Command> h;
  CtrDropCommands f;
  int next;

  @BeforeEach
  void open() throws Exception {
    f = new CtrDropCommands(0.2, 3, 1_000, 2, 0.01);
    h = RoutineCommandsTest.harness(f);
  }

  @AfterEach
  void close() throws Exception {
    h.close();
  }

  static ServingReference production(String version, long updatedAt) {
    return RoutineCommandsTest.production(version, updatedAt, 0);
  }

  /** The next window of {@code version} / {@code variant}. */
  void window(String version, String variant, long impressions, long clicks) throws Exception {
    OnlineCtr.Window w = new OnlineCtr.Window();
    w.modelVersion = version;
    w.variant = variant;
    w.windowStart = next * W;
    w.windowEnd = w.windowStart + W;
    w.impressions = impressions;
    w.clicks = clicks;
    w.ctr = (double) clicks / impressions;
    next++;
    h.processElement1(new StreamRecord<>(w, w.windowEnd - 1));
  }

  void baseline(String version) throws Exception {
    for (int i = 0; i < 3; i++) {
      window(version, "production", 10_000, 600); // 6%
    }
  }

  List<Command> commands() {
    return h.extractOutputValues();
  }

  @Test
  void aSignificantDropForTwoWindowsIssuesOneCommandForTheVersion() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    window("v1", "production", 10_000, 590); // 5.9%: not low
    window("v1", "production", 10_000, 400); // 4%: low (p = 1.5e-14)
    assertThat(commands()).isEmpty();
    window("v1", "production", 10_000, 400); // the second low window in a row
    assertThat(commands())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason).isEqualTo("PERFORMANCE_DROP");
              assertThat(c.referenceVersion).isEqualTo("v1");
              assertThat(c.commandId).isEqualTo("m/v1/ctr-drop/10");
              assertThat(c.issuedAt).isEqualTo(6 * W); // the end of the 6th window
              assertThat(c.message)
                  .contains("baseline of 0.0600", "30000 impressions", "2 windows in a row")
                  .contains("0.0400 over 10000 impressions");
            });
    // with the command, an alert for the operators
    assertThat(h.getSideOutput(RetrainDecider.ALERTS))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getValue().kind).isEqualTo("PERFORMANCE_DROP");
              assertThat(a.getValue().referenceVersion).isEqualTo("v1");
              assertThat(a.getValue().message).isEqualTo(commands().get(0).message);
            });
    window("v1", "production", 10_000, 300);
    window("v1", "production", 10_000, 300);
    assertThat(commands()).hasSize(1); // once per version
    assertThat(h.getSideOutput(RetrainDecider.ALERTS)).hasSize(1);
  }

  @Test
  void smallOrInsignificantDropsSmallWindowsAndOtherVariantsIssueNothing() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    for (int i = 0; i < 3; i++) {
      window("v1", "production", 10_000, 500); // 5%: 17% down, significant, but under 20%
    }
    for (int i = 0; i < 3; i++) {
      window("v1", "production", 1_000, 45); // 4.5%: 25% down, p = 0.024: not significant
    }
    for (int i = 0; i < 3; i++) {
      window("v1", "production", 999, 10); // under 1,000 impressions
    }
    for (int i = 0; i < 3; i++) {
      window("v1", "staging", 10_000, 100); // the A/B share's model
    }
    assertThat(commands()).isEmpty();
    // the same 25% drop made significant by the window's size (p = 0.0042): low
    window("v1", "production", 1_000, 40);
    window("v1", "production", 1_000, 40);
    assertThat(commands())
        .singleElement()
        .satisfies(c -> assertThat(c.issuedAt).isEqualTo(next * W));
  }

  @Test
  void aNewProductionVersionStartsItsOwnBaseline() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    h.processElement2(new StreamRecord<>(production("v2", 20)));
    h.processElement2(new StreamRecord<>(production("v1", 15))); // older: ignored
    for (int i = 0; i < 5; i++) {
      window("v2", "production", 10_000, 400); // v2's own 4% is its baseline, not a drop
    }
    window("v1", "production", 10_000, 100); // no longer production
    window("v1", "production", 10_000, 100);
    assertThat(commands()).isEmpty();
    window("v2", "production", 10_000, 250);
    window("v2", "production", 10_000, 250);
    assertThat(commands())
        .singleElement()
        .satisfies(c -> assertThat(c.referenceVersion).isEqualTo("v2"));
  }

  /**
   * A version rolled back to production starts a new stint: a new baseline, and a drop in it is a
   * command of its own (the trainer runs a command id once: the first stint's would be skipped).
   */
  @Test
  void aVersionBackInProductionAfterARollbackHasItsOwnCommand() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    window("v1", "production", 10_000, 400);
    window("v1", "production", 10_000, 400);
    h.processElement2(new StreamRecord<>(production("v2", 20)));
    baseline("v2");
    h.processElement2(new StreamRecord<>(production("v1", 30))); // the rollback
    baseline("v1");
    window("v1", "production", 10_000, 400);
    window("v1", "production", 10_000, 400);
    assertThat(commands())
        .extracting(c -> c.commandId)
        .containsExactly("m/v1/ctr-drop/10", "m/v1/ctr-drop/30");
  }

  /** A rollback written by a clock behind the promotion it undoes still takes effect. */
  @Test
  void registryRecordsAreOrderedByTheirPlaceInTheTopicNotByTheirClocks() throws Exception {
    ServingReference v1 = production("v1", 10);
    v1.sequence = 1;
    ServingReference v2 = production("v2", 20);
    v2.sequence = 2;
    ServingReference back = production("v1", 15); // the rollback, its writer's clock behind
    back.sequence = 3;
    h.processElement2(new StreamRecord<>(v1));
    h.processElement2(new StreamRecord<>(v2));
    h.processElement2(new StreamRecord<>(back));
    baseline("v1");
    window("v1", "production", 10_000, 400);
    window("v1", "production", 10_000, 400);
    assertThat(commands())
        .singleElement()
        .satisfies(c -> assertThat(c.commandId).isEqualTo("m/v1/ctr-drop/15"));
  }

  /**
   * The gauges behind the PerformanceDrop alert and the dashboard: the pooled baseline once its 3
   * windows are in, and the low windows in a row, back to 0 after a window that is not low and for
   * a new version; a window too small to judge ends the run.
   */
  @Test
  void theGaugesShowTheBaselineAndTheLowWindowsInARow() throws Exception {
    assertThat(f.baselineCtr()).isNaN();
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    window("v1", "production", 10_000, 600);
    window("v1", "production", 20_000, 1_400);
    assertThat(f.baselineCtr()).isNaN(); // 2 of 3 baseline windows
    window("v1", "production", 10_000, 400);
    assertThat(f.baselineCtr()).isEqualTo(2_400 / 40_000.0); // pooled: 6%, not the mean 5.67%
    assertThat(f.lowWindowsInARow()).isZero();
    window("v1", "production", 10_000, 400); // 4%: low
    window("v1", "production", 10_000, 400);
    window("v1", "production", 10_000, 400);
    assertThat(f.lowWindowsInARow()).isEqualTo(3);
    window("v1", "staging", 10_000, 100); // another variant: unchanged
    assertThat(f.lowWindowsInARow()).isEqualTo(3);
    window("v1", "production", 999, 10); // too small to judge: the run is over
    assertThat(f.lowWindowsInARow()).isZero();
    window("v1", "production", 10_000, 400);
    assertThat(f.lowWindowsInARow()).isEqualTo(1);
    window("v1", "production", 10_000, 590); // 5.9%: not low
    assertThat(f.lowWindowsInARow()).isZero();
    window("v1", "production", 10_000, 400);
    assertThat(f.lowWindowsInARow()).isEqualTo(1);
    h.processElement2(new StreamRecord<>(production("v2", 20)));
    assertThat(f.baselineCtr()).isNaN();
    assertThat(f.lowWindowsInARow()).isZero();
  }

  /**
   * When no online CTR window comes for 3 window lengths of processing time (the traffic stopped),
   * the low windows read 0 and PerformanceDrop resolves: the count kept its last value, and the
   * alert fired for as long as no window came. The next window counts on from the state.
   */
  @Test
  void theLowWindowsReadZeroOnceNoWindowHasComeForThreeWindowLengths() throws Exception {
    h.setProcessingTime(1_000);
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    window("v1", "production", 10_000, 400); // low
    window("v1", "production", 10_000, 400); // low
    assertThat(f.lowWindowsInARow()).isEqualTo(2);
    h.setProcessingTime(1_000 + 3 * W - 1);
    assertThat(f.lowWindowsInARow()).isEqualTo(2);
    h.setProcessingTime(1_000 + 3 * W);
    assertThat(f.lowWindowsInARow()).isZero();
    window("v1", "production", 10_000, 400); // the traffic is back, still low
    assertThat(f.lowWindowsInARow()).isEqualTo(3);
  }

  /**
   * A job restored from a checkpoint shows the baseline and the low windows at once, before any
   * window or registry record: the PerformanceDrop alert (low windows >= 2) does not resolve while
   * the job restarts. The restored keyed state goes on counting from there.
   */
  @Test
  void aRestoredJobShowsTheGaugesOfItsCheckpointAtOnce() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    window("v1", "production", 10_000, 400); // low
    window("v1", "production", 10_000, 400); // low: the command goes out
    assertThat(commands()).hasSize(1);
    var checkpoint = h.snapshot(1, 5 * W);
    h.close();

    f = new CtrDropCommands(0.2, 3, 1_000, 2, 0.01);
    h =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new KeyedCoProcessOperator<>(f), t -> "m", r -> r.modelName, Types.STRING);
    h.initializeState(checkpoint);
    h.open();
    assertThat(f.baselineCtr()).isEqualTo(0.06);
    assertThat(f.lowWindowsInARow()).isEqualTo(2);
    window("v1", "production", 10_000, 400);
    assertThat(f.lowWindowsInARow()).isEqualTo(3);
    assertThat(commands()).isEmpty(); // one command per version, also after the restore
  }

  /** A fresh job (nothing restored) shows no baseline and no low windows. */
  @Test
  void aFreshJobShowsNoBaselineAndNoLowWindows() {
    assertThat(f.baselineCtr()).isNaN();
    assertThat(f.lowWindowsInARow()).isZero();
  }

  @Test
  void windowsBeforeTheFirstRegistryRecordAreHeldAndReplayed() throws Exception {
    baseline("v1");
    window("v1", "production", 10_000, 400);
    window("v1", "production", 10_000, 400);
    assertThat(commands()).isEmpty();
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    assertThat(commands()).singleElement().satisfies(c -> assertThat(c.issuedAt).isEqualTo(5 * W));
  }

  /**
   * With no production record (none promoted yet, or {@code model.name} misspelt) the windows wait,
   * up to {@link CtrDropCommands#MAX_PENDING}: beyond that the oldest are dropped, counted and
   * logged once, as the drift evaluator does. The oldest window here is a 20% CTR: kept, it would
   * lift the baseline the replay pools from the first three to (2,000 + 600 + 600) / 30,000.
   */
  @Test
  void windowsBeyondTheHeldOnesBeforeAnyRegistryRecordDropTheOldestCountedAndLoggedOnce()
      throws Exception {
    List<String> warned =
        DriftEvaluatorTest.warnings(
            CtrDropCommands.class,
            () -> {
              window("v1", "production", 10_000, 2_000);
              for (int i = 0; i < CtrDropCommands.MAX_PENDING; i++) {
                window("v1", "production", 10_000, 600);
              }
            });
    assertThat(f.pendingDropped()).isEqualTo(1);
    assertThat(warned).singleElement().asString().contains("model m", "1000 online CTR windows");
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    assertThat(f.baselineCtr()).as("the newest 1,000 windows replayed").isEqualTo(0.06);
    assertThat(f.pendingDropped()).isEqualTo(1);
  }

  /**
   * Low windows are in a row only when contiguous: a low window at 22:00 and, after a night of
   * 5-minute windows too small to judge (under 1,000 impressions), a low one at 06:00 are not two
   * in a row; 06:00 and 06:05 are. A window missing altogether (no impressions for an hour) ends
   * the run too.
   */
  @Test
  void lowWindowsSeparatedBySmallOrMissingWindowsAreNotInARow() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    next = 21 * 12 + 9; // 21:45
    baseline("v1");
    window("v1", "production", 10_000, 400); // 22:00, low
    for (int i = 0; i < 8 * 12 - 1; i++) {
      window("v1", "production", 200, 8); // 22:05 … 05:55: 4%, too small to judge
    }
    assertThat(next).isEqualTo(24 * 12 + 6 * 12); // the next window starts at 06:00
    window("v1", "production", 10_000, 400); // 06:00, low
    assertThat(commands()).as("22:00 and 06:00 are not two in a row").isEmpty();
    window("v1", "production", 10_000, 400); // 06:05, low: two in a row
    assertThat(commands())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.issuedAt).isEqualTo((24 * 12 + 6 * 12 + 2) * W); // 06:10
              assertThat(c.message)
                  .contains("[1970-01-02T06:00:00Z", "[1970-01-02T06:05:00Z")
                  .doesNotContain("T22:00:00Z");
            });
  }

  @Test
  void aMissingWindowEndsTheRun() throws Exception {
    h.processElement2(new StreamRecord<>(production("v1", 10)));
    baseline("v1");
    window("v1", "production", 10_000, 400); // low
    next += 12; // an hour without a window
    window("v1", "production", 10_000, 400); // low, but not the next window
    assertThat(commands()).isEmpty();
    window("v1", "production", 10_000, 400);
    assertThat(commands()).hasSize(1);
  }
}
