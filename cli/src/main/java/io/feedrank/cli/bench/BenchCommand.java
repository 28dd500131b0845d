package io.feedrank.cli.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./feedrank bench NAME}: one benchmark on this machine, figures to target/bench/NAME.json.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run a benchmark against the real local stack and write target/bench/NAME.json.",
    subcommands = {
      SimulateBenchmark.class,
      StreamsBenchmark.class,
      RankerBenchmark.class,
      RankerPartsBenchmark.class,
      TrainBenchmark.class,
      DriftBenchmark.class
    })
public final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
