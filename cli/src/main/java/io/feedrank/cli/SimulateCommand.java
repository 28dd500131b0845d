package io.feedrank.cli;

import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./feedrank simulate}: play the producers against Kafka + a schema registry. */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = {
      "Publish simulated users, items and interaction events (Avro, Confluent wire format).",
      "Targets --bootstrap-servers/--registry-url, else FEEDRANK_BOOTSTRAP_SERVERS/FEEDRANK_REGISTRY_URL,",
      "else the stack of a running ./feedrank up."
    })
final class SimulateCommand implements Runnable {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "random seed: same seed, same stream (default ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--users",
      defaultValue = "10000",
      description = "users (default ${DEFAULT-VALUE})")
  int users;

  @Option(
      names = "--items",
      defaultValue = "50000",
      description = "items (default ${DEFAULT-VALUE})")
  int items;

  @Option(
      names = "--count",
      defaultValue = "0",
      description = "stop after this many events (0 = no limit)")
  long count;

  @Option(
      names = "--duration",
      description = "stop after this wall time, ISO-8601 or e.g. 30s, 5m, 1h")
  String duration;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "target events per second, wall clock (0 = as fast as possible)")
  double rate;

  @Option(
      names = "--start",
      description = "event time of the first event, ISO instant (default: now)")
  Instant start;

  @Option(
      names = "--events-per-event-second",
      defaultValue = "100",
      description =
          "simulated traffic density: events per second of event time (default ${DEFAULT-VALUE})")
  double eventsPerEventSecond;

  @Option(names = "--real-time", description = "event time = wall clock instead of simulated time")
  boolean realTime;

  @Option(
      names = "--scenario",
      defaultValue = "NONE",
      description = "drift scenario: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  Scenario scenario;

  @Option(
      names = "--scenario-start",
      description = "when the scenario starts: ISO instant, or an offset from --start such as 30m")
  String scenarioStart;

  @Option(
      names = "--scenario-strength",
      defaultValue = "1.0",
      description = "0 < strength <= 1 (default ${DEFAULT-VALUE})")
  double scenarioStrength;

  @Option(names = "--no-catalog", description = "do not publish users and items first")
  boolean noCatalog;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Endpoints endpoints =
        Endpoints.resolve(
            endpointOptions.bootstrapServers, endpointOptions.registryUrl, System.getenv());
    Instant t0 = start != null ? start : Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Instant scenarioAt = scenario == Scenario.NONE ? null : parseStart(scenarioStart, t0);
    SimulatorConfig config =
        new SimulatorConfig(
            seed,
            users,
            items,
            SimulatorConfig.DEFAULT_CATEGORIES,
            t0,
            eventsPerEventSecond,
            realTime,
            scenario,
            scenarioAt,
            scenarioStrength);
    SimulatorPublisher.Run run =
        new SimulatorPublisher.Run(
            count, duration == null ? null : parseDuration(duration), rate, !noCatalog);

    AtomicBoolean stop = new AtomicBoolean();
    Thread main = Thread.currentThread();
    Thread hook = new Thread(() -> stop.set(true));
    Runtime.getRuntime().addShutdownHook(hook);
    out.printf(
        "feedrank simulate: %s -> Kafka %s, registry %s (seed %d, scenario %s)%n",
        count > 0 ? count + " events" : "events for " + duration,
        endpoints.bootstrapServers(),
        endpoints.registryUrl(),
        seed,
        scenario);
    out.flush();
    SimulatorPublisher.Stats stats;
    try (SimulatorPublisher publisher =
        new SimulatorPublisher(
            endpoints.clientConfig(), SimulatorPublisher.TopicNames.defaults())) {
      stats = publisher.publish(new InteractionSimulator(config), run, stop::get);
    }
    out.printf(
        "published %,d events (%,d users, %,d items) in %.1f s: %,.0f events/s; event time %s .. %s%n",
        stats.interactions(),
        stats.users(),
        stats.items(),
        stats.eventsElapsed().toMillis() / 1000.0,
        stats.eventsPerSecond(),
        stats.firstEventTime(),
        stats.lastEventTime());
    out.flush();
    if (!stop.get()) {
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    if (main.isInterrupted()) {
      Thread.currentThread().interrupt();
    }
  }

  /** ISO-8601 ({@code PT30S}) or a number with a unit s, m, h, d. */
  static Duration parseDuration(String text) {
    String t = text.trim();
    try {
      if (t.toUpperCase().startsWith("P")) {
        return Duration.parse(t.toUpperCase());
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (Character.toLowerCase(t.charAt(t.length() - 1))) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        case 'd' -> Duration.ofDays(n);
        default -> throw new IllegalArgumentException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (use e.g. 30s, 5m, 1h, 2d or PT30S)");
    }
  }

  static Instant parseStart(String text, Instant base) {
    if (text == null) {
      throw new IllegalArgumentException("--scenario-start is required with --scenario");
    }
    try {
      return Instant.parse(text);
    } catch (RuntimeException e) {
      return base.plus(parseDuration(text));
    }
  }
}
