package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.DriftReport;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatorConfig;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The drift job on a Flink MiniCluster against the real local stack: examples on a real topic, the
 * reference profile of a PRODUCTION model on the real registry topic, reports and commands read
 * back from real topics (read_committed: the sinks are transactional).
 */
@LocalStackTest
class DriftPipelineIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  void run(DriftHarness h) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(h.config()));
    env.execute("drift-it-" + h.id);
  }

  /** The reference from the first 30 minutes of traffic, the stream from the next 55. */
  @Test
  void aStationaryStreamRaisesNoRetrainCommandOverFiftyWindows(LocalStack stack) throws Exception {
    DriftHarness h = new DriftHarness(stack, "stationary");
    Instant start = DriftHarness.recentHour();
    List<TrainingExample> all =
        DriftHarness.examples(DriftHarness.world(1, start), start.plusSeconds(85 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(30 * 60));
    h.registerReference(all.subList(0, reference));
    h.publish(all.subList(reference, all.size()));
    run(h);
    List<DriftReport> reports = h.read("reports", DriftReport.class);
    Set<Long> windows =
        reports.stream().map(r -> r.getWindowStart().toEpochMilli()).collect(Collectors.toSet());
    assertThat(windows).hasSizeGreaterThanOrEqualTo(50);
    // every monitored feature is reported in every window
    assertThat(reports.stream().map(DriftReport::getFeature).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("item_category", "device", "i_content_length");
    assertThat(h.read("commands", RetrainCommand.class)).isEmpty();
    long drifted = reports.stream().filter(DriftReport::getDrifted).count();
    System.out.printf(
        "stationary: %d reports over %d windows, %d drifted%n",
        reports.size(), windows.size(), drifted);
  }

  @Test
  void aCategoryShiftRaisesOneRetrainCommandWithinThreeWindowsNamingTheCategory(LocalStack stack)
      throws Exception {
    DriftHarness h = new DriftHarness(stack, "shift");
    Instant start = DriftHarness.recentHour();
    Instant shift = start.plusSeconds(50 * 60); // 20 stationary windows after the reference
    SimulatorConfig shifted =
        DriftHarness.world(1, start).withScenario(Scenario.CATEGORY_SHIFT, shift, 0.6);
    List<TrainingExample> all = DriftHarness.examples(shifted, start.plusSeconds(70 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(30 * 60));
    h.registerReference(all.subList(0, reference));
    h.publish(all.subList(reference, all.size()));
    run(h);
    List<RetrainCommand> commands = h.read("commands", RetrainCommand.class);
    assertThat(commands).hasSize(1);
    RetrainCommand c = commands.get(0);
    assertThat(c.getEvidence()).extracting(e -> e.getFeature()).contains("item_category");
    // the shift starts with a window; persistence 2 → at the earliest the end of its second one
    long windowsAfter = (c.getIssuedAt().toEpochMilli() - shift.toEpochMilli()) / 60_000;
    System.out.printf(
        "shift at %s, command at %s (%d windows), evidence %s%n",
        shift, c.getIssuedAt(), windowsAfter, c.getEvidence());
    assertThat(windowsAfter).isBetween(2L, 3L);
    List<DriftReport> before =
        h.read("reports", DriftReport.class).stream()
            .filter(r -> r.getWindowEnd().isBefore(shift.plusMillis(1)))
            .filter(DriftReport::getDrifted)
            .toList();
    assertThat(before).as("no drift before the shift").isEmpty();
  }
}
