package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job as it is deployed: the shaded {@code flink-drift-*-job.jar} this build packaged,
 * submitted with {@code flink run} to a standalone Flink session cluster (JobManager and
 * TaskManager in their own JVMs, no feedrank, Kafka or Avro classes of their own), against the real
 * local stack. What the MiniCluster tests cannot show: the jar carries everything the job needs,
 * its classes load through Flink's user-code class loader, and its operators and records serialize
 * between processes.
 */
@LocalStackTest
class DriftJobOnAFlinkClusterIT {
  @TempDir Path dir;

  @Test
  void theShadedJobJarRunsOnAStandaloneClusterAndRaisesTheCommandForACategoryShift(LocalStack stack)
      throws Exception {
    Path jar = jobJar();
    DriftHarness h = new DriftHarness(stack, "cluster");
    Instant start = DriftHarness.recentHour();
    Instant shift = start.plusSeconds(50 * 60);
    SimulatorConfig shifted =
        DriftHarness.world(1, start).withScenario(Scenario.CATEGORY_SHIFT, shift, 0.6);
    List<TrainingExample> all = DriftHarness.examples(shifted, start.plusSeconds(70 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(30 * 60));
    h.registerReference(all.subList(0, reference));
    h.publish(all.subList(reference, all.size()));

    List<String> args = new ArrayList<>();
    for (Map.Entry<String, String> e : h.config().entrySet()) {
      args.add("--" + e.getKey());
      args.add(e.getValue());
    }
    try (StandaloneFlinkCluster flink =
        StandaloneFlinkCluster.start(dir, 2, Duration.ofSeconds(90))) {
      String job = flink.submit(jar, args, Duration.ofSeconds(90));
      String[] state = {""};
      await()
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                state[0] = flink.jobState(job);
                return Set.of("FINISHED", "FAILED", "CANCELED").contains(state[0]);
              });
      assertThat(state[0])
          .as("job state; the cluster's logs:\n%s", flink.logs())
          .isEqualTo("FINISHED");
    }

    List<RetrainCommand> commands = h.read("commands", RetrainCommand.class);
    assertThat(commands).hasSize(1);
    RetrainCommand c = commands.get(0);
    assertThat(c.getEvidence()).extracting(e -> e.getFeature()).contains("item_category");
    long windowsAfter = (c.getIssuedAt().toEpochMilli() - shift.toEpochMilli()) / 60_000;
    assertThat(windowsAfter).isBetween(2L, 3L);
    assertThat(h.read("reports", io.feedrank.events.DriftReport.class))
        .as("a report per monitored feature and window")
        .hasSizeGreaterThanOrEqualTo(3 * 35);
  }

  /** The jar {@code package} built before the integration tests. */
  private static Path jobJar() throws IOException {
    try (Stream<Path> files = Files.list(Paths.get("target"))) {
      return files
          .filter(p -> p.getFileName().toString().matches("flink-drift-.*-job\\.jar"))
          .findFirst()
          .orElseThrow(
              () -> new IOException("no flink-drift-*-job.jar in target/: run mvn package first"));
    }
  }
}
