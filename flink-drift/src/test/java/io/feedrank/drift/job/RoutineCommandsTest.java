package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Data-volume and scheduled commands in Flink's keyed two-input harness. */
class RoutineCommandsTest {
  KeyedTwoInputStreamOperatorTestHarness<String, Long, ServingReference, Command> h;

  void open(long volume, long period) throws Exception {
    h = harness(new RoutineCommands(volume, period));
  }

  /**
   * An open harness for a function keyed by model whose first input is of model "m" (what the job
   * keys it by) and whose second is the registry.
   */
  static <T> KeyedTwoInputStreamOperatorTestHarness<String, T, ServingReference, Command> harness(
      KeyedCoProcessFunction<String, T, ServingReference, Command> f) throws Exception {
    KeyedTwoInputStreamOperatorTestHarness<String, T, ServingReference, Command> h =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new KeyedCoProcessOperator<>(f), t -> "m", r -> r.modelName, Types.STRING);
    h.open();
    return h;
  }

  @AfterEach
  void close() throws Exception {
    h.close();
  }

  static ServingReference production(String version, long updatedAt, long trainingTo) {
    ServingReference r = new ServingReference();
    r.modelName = "m";
    r.version = version;
    r.stage = "PRODUCTION";
    r.updatedAt = updatedAt;
    r.trainingTo = trainingTo;
    return r;
  }

  void examples(long from, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      h.processElement1(new StreamRecord<>(from + i, from + i));
    }
  }

  List<Command> commands() {
    return h.extractOutputValues();
  }

  @Test
  void oneDataVolumeCommandPerServingVersionCountingOnlyExamplesAfterItsTraining()
      throws Exception {
    open(100, 0);
    h.processElement2(new StreamRecord<>(production("v1", 10, 1_000)));
    examples(900, 100); // event times 900..999: inside v1's training range, not new
    assertThat(commands()).isEmpty();
    examples(1_001, 99);
    assertThat(commands()).isEmpty();
    examples(2_000, 1); // the 100th new example
    assertThat(commands())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason).isEqualTo("DATA_VOLUME");
              assertThat(c.referenceVersion).isEqualTo("v1");
              assertThat(c.commandId).isEqualTo("m/v1/volume/10"); // its promotion's updated_at
            });
    examples(3_000, 500);
    assertThat(commands()).hasSize(1); // once per serving version
    h.processElement2(new StreamRecord<>(production("v2", 20, 5_000)));
    examples(5_001, 100);
    assertThat(commands()).hasSize(2);
    assertThat(commands().get(1).referenceVersion).isEqualTo("v2");
  }

  /**
   * v1, replaced by v2, then rolled back to: its second stint in production counts anew and has a
   * command of its own, whose id the trainer has not seen (it ignores one it ran already). A record
   * of the serving version again (a later update of it) is the same stint.
   */
  @Test
  void aVersionRolledBackToProductionHasADataVolumeCommandOfItsOwn() throws Exception {
    open(10, 0);
    ServingReference v1 = production("v1", 10, 0);
    v1.sequence = 1;
    ServingReference v2 = production("v2", 20, 0);
    v2.sequence = 2;
    ServingReference back = production("v1", 30, 0);
    back.sequence = 3;
    ServingReference again = production("v1", 40, 0);
    again.sequence = 4;
    h.processElement2(new StreamRecord<>(v1));
    examples(1, 10);
    h.processElement2(new StreamRecord<>(v2));
    h.processElement2(new StreamRecord<>(back));
    examples(11, 5);
    h.processElement2(new StreamRecord<>(again));
    examples(16, 5);
    assertThat(commands())
        .extracting(c -> c.referenceVersion + " " + c.commandId)
        .containsExactly("v1 m/v1/volume/10", "v1 m/v1/volume/30");
  }

  @Test
  void anOlderOrNonProductionRecordDoesNotResetTheCount() throws Exception {
    open(10, 0);
    h.processElement2(new StreamRecord<>(production("v2", 20, 0)));
    examples(1, 5);
    ServingReference staging = production("v3", 30, 0);
    staging.stage = "STAGING";
    h.processElement2(new StreamRecord<>(staging));
    h.processElement2(new StreamRecord<>(production("v1", 10, 0)));
    examples(6, 5);
    assertThat(commands()).singleElement().extracting(c -> c.referenceVersion).isEqualTo("v2");
  }

  @Test
  void registryRecordsAreOrderedByTheirPlaceInTheTopicNotByTheirClocks() throws Exception {
    open(10, 0);
    ServingReference v1 = production("v1", 10, 0);
    v1.sequence = 1;
    ServingReference v2 = production("v2", 20, 0);
    v2.sequence = 2;
    ServingReference back = production("v1", 15, 0); // the rollback, its writer's clock behind
    back.sequence = 3;
    h.processElement2(new StreamRecord<>(v1));
    h.processElement2(new StreamRecord<>(v2));
    h.processElement2(new StreamRecord<>(back));
    examples(1, 10);
    assertThat(commands()).singleElement().extracting(c -> c.referenceVersion).isEqualTo("v1");
  }

  @Test
  void scheduledCommandsEveryPeriodOfProcessingTime() throws Exception {
    open(0, 1_000);
    h.setProcessingTime(0);
    h.processElement2(new StreamRecord<>(production("v1", 10, 0)));
    h.setProcessingTime(999);
    assertThat(commands()).isEmpty();
    h.setProcessingTime(1_000);
    h.setProcessingTime(2_500);
    assertThat(commands()).hasSize(2).allSatisfy(c -> assertThat(c.reason).isEqualTo("SCHEDULE"));
    assertThat(commands())
        .extracting(c -> c.commandId)
        .containsExactly("m/schedule/1000", "m/schedule/2000");
  }

  /**
   * A job restored ten hours after its checkpoint, with a period of an hour: Flink fires the
   * checkpoint's overdue timer at once, and that is one command for the periods missed, not one per
   * hour back to back. The next is at the first boundary after the restore (11 h: the phase kept).
   */
  @Test
  void aRestoreAfterManyMissedPeriodsIssuesOneCommandForThemAll() throws Exception {
    long hour = 3_600_000;
    open(0, hour);
    h.setProcessingTime(0);
    h.processElement2(new StreamRecord<>(production("v1", 10, 0))); // the first timer: 1 h
    var checkpoint = h.snapshot(1, 0);
    h.close();

    h =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new KeyedCoProcessOperator<>(new RoutineCommands(0, hour)),
            t -> "m",
            r -> r.modelName,
            Types.STRING);
    h.initializeState(checkpoint);
    h.open();
    h.setProcessingTime(10 * hour + hour / 2); // back up at 10:30
    assertThat(commands())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason).isEqualTo("SCHEDULE");
              assertThat(c.commandId).isEqualTo("m/schedule/" + hour);
            });
    h.setProcessingTime(11 * hour - 1);
    assertThat(commands()).hasSize(1);
    h.setProcessingTime(11 * hour);
    assertThat(commands())
        .extracting(c -> c.commandId)
        .containsExactly("m/schedule/" + hour, "m/schedule/" + 11 * hour);
  }
}
