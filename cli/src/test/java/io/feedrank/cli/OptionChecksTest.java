package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Options refused as usage errors (exit 2, the message naming the option) before a command starts
 * anything: none of these runs reaches a broker, a stack or a model.
 */
class OptionChecksTest {
  @TempDir Path dir;

  /** The first line a command writes to its error stream, and its exit code. */
  record Refusal(int exit, String message) {}

  static Refusal run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int exit = cli.execute(args);
    return new Refusal(exit, err.toString().lines().findFirst().orElse(""));
  }

  @Test
  void trainRangesAreCheckedBeforeTheTrainerStarts() {
    String a = "2026-01-02T00:00:00Z";
    String b = "2026-01-03T00:00:00Z";
    assertThat(run("train", "--from", a)).isEqualTo(new Refusal(2, "--from and --to go together"));
    assertThat(run("train", "--from", b, "--to", a))
        .isEqualTo(new Refusal(2, "--from " + b + " is not before --to " + a));
    assertThat(run("train", "--listen", "--from", a, "--to", b).message())
        .startsWith("--from and --to set one run's range; with --listen");
    assertThat(run("train", "--days", "3", "--from", a, "--to", b))
        .isEqualTo(new Refusal(2, "--days or --from and --to, not both"));
  }

  @Test
  void driftsMetricsPortIsAPort() {
    assertThat(run("drift", "--metrics-port", "70000"))
        .isEqualTo(new Refusal(2, "--metrics-port must be within 0..65535 (0 = off), got 70000"));
    assertThat(run("drift", "--metrics-port", "-1").exit()).isEqualTo(2);
  }

  /**
   * The drift job here shares the JVM with kafka-clients 4.3, where the Kafka connector's
   * transactional writer fails at the first checkpoint: exactly once is refused at the start, not
   * found there (README, Drift: Delivery). The bound only matters if it is not refused: the job
   * then runs until stopped.
   */
  @Test
  void driftRefusesExactlyOnceBeforeStartingTheJob() throws Exception {
    Path config = dir.resolve("drift.properties");
    Files.writeString(config, "delivery.guarantee=exactly-once\n");
    Refusal refusal =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            () ->
                run(
                    "drift",
                    "--bootstrap-servers",
                    "127.0.0.1:1",
                    "--registry-url",
                    "http://127.0.0.1:1",
                    "--config",
                    config.toString(),
                    "--state-dir",
                    dir.resolve("state").toString(),
                    "--metrics-port",
                    "0"));
    assertThat(refusal.exit()).isEqualTo(2);
    assertThat(refusal.message())
        .startsWith("delivery.guarantee=exactly-once needs the job jar on a Flink cluster");
  }

  /** The file may be a running trainer's: registry commands read the registry, serving nothing. */
  @Test
  void registryCommandsOpenNoMetricsPortWhateverTheFileSays() throws Exception {
    Path file = dir.resolve("trainer.properties");
    Files.writeString(file, "metrics.port=19402\n");
    RegistryCommand cmd = new RegistryCommand();
    new CommandLine(cmd).parseArgs("list", "--config", file.toString());
    Map<String, String> c = cmd.config(TestEnvironment.of(dir));
    assertThat(c).containsEntry("metrics.port", "0");
    assertThat(io.feedrank.trainer.TrainerConfig.from(c).metricsPort()).isZero();
  }

  @Test
  void upRefusesWhatItWouldIgnoreOrFindOnlyAfterStartingTheStack() {
    assertThat(run("up", "--stack-only", "--ranker-port", "9000").message())
        .isEqualTo(
            "--ranker-port is for the whole platform: --stack-only starts no ranker and publishes"
                + " no history");
    assertThat(run("up", "--stack-only", "--ranker-config", "port=1").message())
        .startsWith("--ranker-config is for the whole platform");
    assertThat(run("up", "--history-hours", "-3"))
        .isEqualTo(new Refusal(2, "--history-hours must be 0 or more, got -3"));
    assertThat(run("up", "--kafka-port", "-5"))
        .isEqualTo(
            new Refusal(2, "--kafka-port must be within 0..65535 (0: a random one), got -5"));
    assertThat(run("up", "--simulate-rate", "-4").exit()).isEqualTo(2);
    Refusal typo = run("up", "--ranker-config", "rate.limt=5");
    assertThat(typo.exit()).isEqualTo(2);
    assertThat(typo.message()).startsWith("--ranker-config: unknown config key rate.limt");
  }

  /**
   * A configuration value a service refuses, from {@code --config}, {@code --ranker-config} or the
   * environment, is a usage error as a bad option is (exit 2, the message naming the key), before
   * the service starts; it was exit 1, as for a service that failed.
   */
  @Test
  void aConfigurationValueAServiceRefusesIsAUsageError() throws Exception {
    String[] endpoints = {
      "--bootstrap-servers", "127.0.0.1:1", "--registry-url", "http://127.0.0.1:1"
    };
    Path bad = dir.resolve("bad.properties");
    Files.writeString(bad, "rate.limit.per.second=-1\nnum.stream.threads=0\nwindow.ms=-5\n");
    assertThat(
            run(
                concat(
                    new String[] {"ranker", "--redis-uri", "redis://127.0.0.1:1"},
                    endpoints,
                    "--ranker-config",
                    "rate.limit.per.second=-1")))
        .isEqualTo(new Refusal(2, "rate.limit.per.second must be a finite number > 0, got -1.0"));
    assertThat(
            run(concat(
                    new String[] {"streams", "--redis-uri", "redis://127.0.0.1:1"},
                    endpoints,
                    "--config",
                    bad.toString()))
                .exit())
        .isEqualTo(2);
    assertThat(run(concat(new String[] {"drift"}, endpoints, "--window-ms", "-5")).exit())
        .isEqualTo(2);
  }

  /**
   * The commands that read a configuration without a service's own config class (simulate, topics,
   * streams' and drift's endpoints, a --config file that is not there, runs' arguments) refuse it
   * as a usage error too, naming the key, option or file; they exited 1.
   */
  @Test
  void everyRefusedConfigurationIsAUsageError() throws Exception {
    Path typo = dir.resolve("client.properties");
    Files.writeString(typo, "schema.registy.url=http://127.0.0.1:1\n");
    Refusal simulate =
        run(
            "simulate",
            "--count",
            "10",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--registry-url",
            "http://127.0.0.1:1",
            "--config",
            typo.toString());
    assertThat(simulate.exit()).isEqualTo(2);
    assertThat(simulate.message()).contains("schema.registy.url");
    assertThat(run("streams", "--redis-uri", "")).isEqualTo(new Refusal(2, "--redis-uri is empty"));
    Refusal drift = run("drift", "--bootstrap-servers", "127.0.0.1:1");
    assertThat(drift.exit()).isEqualTo(2);
    assertThat(drift.message()).startsWith("no schema registry (--registry-url or");
    Path missing = dir.resolve("nonexistent.properties");
    assertThat(run("topics", "init", "--config", missing.toString()))
        .isEqualTo(new Refusal(2, "--config " + missing + ": no such file"));
    assertThat(run("ranker", "--config", missing.toString()))
        .isEqualTo(new Refusal(2, "--config " + missing + ": no such file"));
    Path keys = dir.resolve("nonexistent-keys");
    assertThat(
            run(
                "ranker",
                "--bootstrap-servers",
                "127.0.0.1:1",
                "--registry-url",
                "http://127.0.0.1:1",
                "--redis-uri",
                "redis://127.0.0.1:1",
                "--ranker-config",
                "api.keys.file=" + keys))
        .isEqualTo(new Refusal(2, "api.keys.file: no such file " + keys));
    assertThat(run("runs", "bogus"))
        .isEqualTo(new Refusal(2, "unknown action 'bogus': list or show"));
    assertThat(run("runs", "show"))
        .isEqualTo(new Refusal(2, "runs show needs a run id (see runs list)"));
  }

  private static String[] concat(String[] a, String[] b, String... c) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length + c.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    System.arraycopy(c, 0, all, a.length + b.length, c.length);
    return all;
  }

  @Test
  void benchmarksRefuseNothingToMeasureBeforeSettingUp() {
    for (String bench :
        new String[] {"simulate", "streams", "ranker", "ranker-parts", "train", "drift"}) {
      assertThat(run("bench", bench, "--runs", "0"))
          .as(bench)
          .isEqualTo(new Refusal(2, "--runs must be 1 or more, got 0"));
    }
    assertThat(run("bench", "ranker", "--phases", "bogus").message())
        .isEqualTo("--phases: unknown bogus (c100, c1000, two_tower, cold)");
    assertThat(run("bench", "ranker", "--ranker-config", "rate.limt=5").message())
        .startsWith("--ranker-config: unknown config key rate.limt");
  }

  /** Options of bench ranker used only minutes into the run, after the stack is set up. */
  @Test
  void benchRankerRefusesPeriodsAndRatesItCouldNotRunWith() {
    assertThat(run("bench", "ranker", "--scrape-every", "0"))
        .isEqualTo(new Refusal(2, "--scrape-every must be 1 or more, got 0"));
    assertThat(run("bench", "ranker", "--cold-seconds", "0"))
        .isEqualTo(new Refusal(2, "--cold-seconds must be 1 or more, got 0"));
    assertThat(run("bench", "ranker", "--cold-windows", "-1"))
        .isEqualTo(new Refusal(2, "--cold-windows must be 1 or more, got -1"));
    assertThat(run("bench", "ranker", "--warmup", "-1"))
        .isEqualTo(new Refusal(2, "--warmup must be 0 or more, got -1"));
    assertThat(run("bench", "ranker", "--max-warmup", "-5"))
        .isEqualTo(new Refusal(2, "--max-warmup must be 0 or more, got -5"));
    assertThat(run("bench", "ranker", "--cold-rate", "0"))
        .isEqualTo(new Refusal(2, "--cold-rate must be a finite number > 0, got 0.0"));
    assertThat(run("bench", "ranker", "--cold-rate", "NaN").exit()).isEqualTo(2);
  }

  @Test
  void simulateRefusesARunOfNothingAndAScenarioStartWithoutScenario() {
    assertThat(run("simulate", "--duration", "-5m"))
        .isEqualTo(new Refusal(2, "--duration must be > 0, got -5m"));
    assertThat(run("simulate", "--duration", "5x").message()).startsWith("not a duration: '5x'");
    assertThat(run("simulate", "--count", "-5"))
        .isEqualTo(new Refusal(2, "--count must be >= 0, got -5"));
    assertThat(run("simulate", "--count", "5", "--scenario-start", "30m"))
        .isEqualTo(new Refusal(2, "--scenario-start needs a --scenario"));
    assertThat(run("demo", "--rate", "Infinity").exit()).isEqualTo(2);
  }
}
