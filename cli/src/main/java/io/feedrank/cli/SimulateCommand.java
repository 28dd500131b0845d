package io.feedrank.cli;

import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.errors.InvalidTimestampException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./feedrank simulate}: play the producers against Kafka + a schema registry. */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = {
      "Publish simulated users, items and interaction events (Avro, Confluent wire format).",
      "Targets --bootstrap-servers/--registry-url, else FEEDRANK_BOOTSTRAP_SERVERS/FEEDRANK_REGISTRY_URL,",
      "else (none given) those of a running ./feedrank up.",
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
      description =
          "event time of the first event, ISO instant. Default: with --count, where the stream ends now (event time runs faster than the clock); else now. Give it to replay a stream bit for bit.")
  Instant start;

  @Option(
      names = "--config",
      description =
          "properties file: bootstrap.servers, schema.registry.url, and kafka.* keys for the"
              + " producer without the prefix (e.g. kafka.security.protocol=SASL_SSL)")
  Path configFile;

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

  /** A simulator setting's refusal, worded with this command's options, not the record's fields. */
  static String optionNames(String message) {
    return message
        .replace("scenarioStrength", "--scenario-strength")
        .replace("eventsPerEventSecond", "--events-per-event-second")
        .replaceFirst("^count ", "--count ")
        .replaceFirst("^rate ", "--rate ")
        .replaceFirst("^users ", "--users ")
        .replaceFirst("^items ", "--items ");
  }

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Instant t0;
    SimulatorConfig config;
    SimulatorPublisher.Run run;
    try {
      if (scenario == Scenario.NONE && scenarioStart != null) {
        throw new IllegalArgumentException("--scenario-start needs a --scenario");
      }
      Duration runFor = duration == null ? null : parseDuration(duration);
      if (runFor != null && (runFor.isNegative() || runFor.isZero())) {
        throw new IllegalArgumentException("--duration must be > 0, got " + duration);
      }
      run = new SimulatorPublisher.Run(count, runFor, rate, !noCatalog);
      t0 = start(Instant.now());
      Instant scenarioAt = scenario == Scenario.NONE ? null : parseStart(scenarioStart, t0);
      config =
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
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), optionNames(e.getMessage()));
    }
    Map<String, Object> client =
        ServiceConfig.refusing(spec, () -> producerConfig(System.getenv()));
    if (start == null && !realTime && t0.isBefore(Instant.now().minus(Duration.ofDays(7)))) {
      spec.commandLine()
          .getErr()
          .printf(
              "feedrank simulate: the stream starts %s, more than 7 days back; a broker's default"
                  + " retention (log.retention.hours=168) deletes older records as they arrive.%n",
              t0);
    }
    // event time outruns the clock where events go out faster than the curve's quietest rate
    if (start == null
        && !realTime
        && count == 0
        && (rate == 0 || rate > InteractionSimulator.QUIETEST * eventsPerEventSecond)) {
      spec.commandLine()
          .getErr()
          .printf(
              "feedrank simulate: event time starts now and can run ahead of the clock; a broker"
                  + " refuses records stamped more than log.message.timestamp.after.max.ms (1 h"
                  + " by default) ahead. Give --count (the stream then ends now), --start or"
                  + " --real-time.%n");
    }

    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              try {
                // the JVM halts when its hooks return: let the producer flush what it holds
                finished.await(40, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "feedrank-simulate-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      out.printf(
          "feedrank simulate: %s -> Kafka %s, registry %s (seed %d, scenario %s, event time from"
              + " %s)%n",
          count > 0 ? count + " events" : "events for " + duration,
          client.get("bootstrap.servers"),
          client.get("schema.registry.url"),
          seed,
          scenario,
          t0);
      out.flush();
      publish(out, config, run, client, stop);
    } finally {
      finished.countDown();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // a Ctrl-C as the run ended: the hook is running, and returns now
    }
  }

  /**
   * Where the stream starts: {@code --start}; else, for a count of simulated events, where it is
   * expected to end now, since a broker refuses timestamps too far ahead of its clock (and the
   * features would be from the future for a ranker serving now); else now.
   */
  Instant start(Instant now) {
    if (start != null) {
      return start;
    }
    Instant t = now.truncatedTo(ChronoUnit.SECONDS);
    return realTime || count == 0
        ? t
        : InteractionSimulator.startToEndAt(t, count, eventsPerEventSecond)
            .truncatedTo(ChronoUnit.SECONDS);
  }

  /**
   * The producer's configuration: the endpoints (options, the {@code --config} file, the
   * environment, a running {@code up}), the registry's keys (auth, retries, timeout), and the
   * file's {@code kafka.*} keys without the prefix; any other key of the file is refused.
   */
  Map<String, Object> producerConfig(Map<String, String> env) {
    ServiceConfig s = ServiceConfig.resolveKafka(configFile, endpointOptions, env);
    RegistryConfig registry = s.registryOnly("feedrank simulate");
    Map<String, Object> m = s.kafkaClient();
    m.putAll(registry.toMap());
    return m;
  }

  private void publish(
      PrintWriter out,
      SimulatorConfig config,
      SimulatorPublisher.Run run,
      Map<String, Object> client,
      AtomicBoolean stop) {
    SimulatorPublisher.Stats stats;
    try (SimulatorPublisher publisher =
        new SimulatorPublisher(client, SimulatorPublisher.TopicNames.defaults())) {
      stats = publisher.publish(new InteractionSimulator(config), run, stop::get);
    } catch (IllegalStateException e) {
      if (e.getCause() instanceof InvalidTimestampException) {
        throw new IllegalStateException(
            e.getMessage()
                + ". The broker refuses record timestamps more than"
                + " log.message.timestamp.after.max.ms (1 h by default) ahead of its clock, or"
                + " log.message.timestamp.before.max.ms behind it: end the stream now (--count"
                + " without --start), use --real-time, or raise the topics'"
                + " message.timestamp.after.max.ms / before.max.ms",
            e);
      }
      throw e;
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
