package io.feedrank.cli.bench;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.InteractionEvent;
import io.feedrank.localstack.LocalStack;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank bench simulate}: per run, start a fresh local stack (timed), then publish
 * events with the Avro serdes as fast as the broker takes them. Two baselines run in the same
 * process each run: the generator alone, and the generator plus Avro serialization without Kafka,
 * so the figures say where the time goes.
 */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = "Simulator publish rate and stack start-up time.")
final class SimulateBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--runs",
      defaultValue = "3",
      description = "runs; figures are medians (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--events",
      defaultValue = "1000000",
      description = "events published per run (default ${DEFAULT-VALUE})")
  long events;

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  @Override
  public Integer call() {
    BenchCommand.atLeastOne(spec, "--runs", runs, "--events", events);
    PrintWriter w = spec.commandLine().getOut();
    BenchReport report = new BenchReport("simulate");
    report.note("events_per_run", events);
    report.note(
        "publish",
        "KafkaProducer acks=all, idempotent, lz4, linger 10 ms, batch 256 KiB; 12-partition interactions topic; catalog of 10,000 users + 50,000 items published first (not timed)");
    for (int run = 1; run <= runs; run++) {
      Map<String, Double> figures = new LinkedHashMap<>();
      long t0 = System.nanoTime();
      try (LocalStack stack = LocalStack.builder().build().start()) {
        figures.put("stack_start_s", (System.nanoTime() - t0) / 1e9);
        if (run == 1) {
          // later runs reuse this JVM's loaded and compiled broker classes
          report.note("stack_start_cold_s", figures.get("stack_start_s"));
        }
        SimulatorConfig config =
            SimulatorConfig.defaults(run, Instant.parse("2026-11-02T00:00:00Z"));
        figures.put("generator_events_per_s", generatorOnly(config));
        figures.put("serialize_events_per_s", serializeOnly(config, stack));
        try (SimulatorPublisher p =
            new SimulatorPublisher(
                stack.clientConfig(), SimulatorPublisher.TopicNames.defaults())) {
          SimulatorPublisher.Stats s =
              p.publish(
                  new InteractionSimulator(config),
                  new SimulatorPublisher.Run(events, null, 0, true),
                  () -> false);
          figures.put("events_per_s", s.eventsPerSecond());
        }
      }
      figures.put(
          "publish_to_serialize_ratio",
          figures.get("events_per_s") / figures.get("serialize_events_per_s"));
      report.addRun(figures);
      w.printf("run %d: %s%n", run, format(figures));
      w.flush();
    }
    Path dir = out != null ? out : BenchReport.defaultDir();
    Path file = report.write(dir);
    w.printf("medians: %s%nwritten %s%n", format(report.figures()), file);
    return 0;
  }

  private double generatorOnly(SimulatorConfig config) {
    InteractionSimulator sim = new InteractionSimulator(config);
    long n = Math.min(events, 500_000);
    long sink = 0;
    long t = System.nanoTime();
    for (long i = 0; i < n; i++) {
      sink += sim.next().getItemId();
    }
    double s = (System.nanoTime() - t) / 1e9;
    if (sink == 42) {
      spec.commandLine().getErr().print(""); // keep the loop observable to the JIT
    }
    return n / s;
  }

  private double serializeOnly(SimulatorConfig config, LocalStack stack) {
    InteractionSimulator sim = new InteractionSimulator(config);
    AvroSerializer<InteractionEvent> serializer =
        new AvroSerializer<>(stack.registryClient(), true);
    long n = Math.min(events, 500_000);
    long bytes = 0;
    long t = System.nanoTime();
    for (long i = 0; i < n; i++) {
      bytes += serializer.serialize(Topics.INTERACTIONS, sim.next()).length;
    }
    double s = (System.nanoTime() - t) / 1e9;
    return bytes > 0 ? n / s : 0;
  }

  private static String format(Map<String, Double> figures) {
    StringBuilder b = new StringBuilder();
    figures.forEach(
        (k, v) ->
            b.append(k)
                .append('=')
                .append(String.format(v >= 100 ? "%,.0f" : "%.3f", v))
                .append("  "));
    return b.toString().trim();
  }
}
