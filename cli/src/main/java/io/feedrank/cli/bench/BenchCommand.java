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

  /**
   * Refuses, as a usage error before anything starts, a count option below 1: {@code --runs 0}
   * would set up the stack, measure nothing and overwrite the report with no figures.
   *
   * @param options option names and their values, in pairs
   */
  static void atLeastOne(CommandLine.Model.CommandSpec spec, Object... options) {
    for (int i = 0; i < options.length; i += 2) {
      long value = ((Number) options[i + 1]).longValue();
      if (value < 1) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), options[i] + " must be 1 or more, got " + value);
      }
    }
  }
}
