package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.simulator.InteractionSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./feedrank simulate}'s start of event time and its producer configuration. */
class SimulateCommandTest {
  @TempDir Path dir;

  static final Instant NOW = Instant.parse("2026-12-02T15:30:00.250Z"); // a Wednesday

  static SimulateCommand parse(String... args) {
    SimulateCommand cmd = new SimulateCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd;
  }

  /**
   * A count of simulated events ends now: a broker refuses records stamped more than an hour ahead
   * of its clock by default. 100 events per event second at 0.725 of that on average over a
   * weekday: 6,264,000 events are the day up to now. The rest start now, or at --start.
   */
  @Test
  void aCountOfSimulatedEventsEndsNow() {
    Instant t = NOW.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    assertThat(parse("--count", "6264000").start(NOW))
        .isBetween(t.minusSeconds(86_401), t.minusSeconds(86_399));
    assertThat(parse("--count", "50000", "--events-per-event-second", "10").start(NOW))
        .isEqualTo(
            InteractionSimulator.startToEndAt(t, 50_000, 10)
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    assertThat(parse("--duration", "5m").start(NOW)).isEqualTo(t);
    assertThat(parse("--count", "1000", "--real-time").start(NOW)).isEqualTo(t);
    assertThat(parse("--count", "1000", "--start", "2026-01-01T00:00:00Z").start(NOW))
        .isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /** A setting the simulator refuses is a usage error naming the option, before any connection. */
  @Test
  void aSimulatorSettingOutOfRangeIsAUsageErrorNamingTheOption() {
    java.io.StringWriter err = new java.io.StringWriter();
    CommandLine cl = new CommandLine(new SimulateCommand());
    cl.setErr(new java.io.PrintWriter(err, true));
    assertThat(
            cl.execute(
                "--count",
                "1",
                "--scenario",
                "CATEGORY_SHIFT",
                "--scenario-start",
                "30m",
                "--scenario-strength",
                "0"))
        .isEqualTo(2);
    // the message's line (the usage that follows names the option's parameter)
    assertThat(err.toString().lines().findFirst().orElseThrow())
        .isEqualTo("--scenario-strength must be within (0, 1], got 0.0");
  }

  /** The --config file's kafka.* keys reach the producer without their prefix. */
  @Test
  void theConfigFilesKafkaKeysReachTheProducer() throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(
        file,
        "kafka.security.protocol=SASL_SSL\n"
            + "kafka.sasl.mechanism=PLAIN\n"
            + "bootstrap.servers=broker.example:9093\n"
            + "schema.registry.max.retries=2\n");
    Map<String, Object> p =
        parse("--count", "10", "--config", file.toString()).producerConfig(TestEnvironment.of(dir));
    assertThat(p)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry("bootstrap.servers", "broker.example:9093")
        .containsEntry("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7")
        .containsEntry("schema.registry.max.retries", "2")
        .doesNotContainKey("kafka.security.protocol");
    // without the file: the environment's endpoints
    assertThat(parse("--count", "10").producerConfig(TestEnvironment.of(dir)))
        .containsEntry("bootstrap.servers", "127.0.0.1:9092");
  }

  /**
   * A key of the --config file that is neither an endpoint, a registry key nor kafka.* is refused
   * naming it, as every service refuses its unknown keys; so is a registry URL with credentials,
   * before the run prints the URL.
   */
  @Test
  void theConfigFilesUnknownKeysAndCredentialsInTheUrlAreRefused() throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "kafka_security.protocol=SASL_SSL\nschema.registy.url=http://x:1\n");
    assertThatThrownBy(
            () ->
                parse("--count", "10", "--config", file.toString())
                    .producerConfig(TestEnvironment.of(dir)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kafka_security.protocol")
        .hasMessageContaining("schema.registy.url (did you mean schema.registry.url?)");
    Files.writeString(file, "schema.registry.url=http://alice:s3cret@127.0.0.1:1\n");
    assertThatThrownBy(
            () ->
                parse("--count", "10", "--config", file.toString())
                    .producerConfig(TestEnvironment.of(dir)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("s3cret");
  }
}
