package io.feedrank.cli;

import io.feedrank.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./feedrank}: the one entry point. Reads the environment and decides the exit code; the
 * commands below wire the modules onto the local stack or onto real endpoints.
 */
@Command(
    name = "feedrank",
    mixinStandardHelpOptions = true,
    version = "feedrank 0.1.0-SNAPSHOT",
    description =
        "Real-time feed ranking platform: Kafka, Kafka Streams, Flink, Redis, ONNX Runtime.",
    subcommands = {
      DemoCommand.class,
      UpCommand.class,
      SimulateCommand.class,
      StreamsCommand.class,
      RankerCommand.class,
      TrainCommand.class,
      DriftCommand.class,
      RunsCommand.class,
      RegistryCommand.class,
      TopicsCommand.class,
      LoadtestCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line {@link #main} runs: its error handler and help width set. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // the commands' descriptions are written as lines of up to 100 characters: at picocli's
    // default of 80, each line would wrap, leaving a fragment of a few words on a line of its own
    cli.setUsageHelpWidth(100);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("feedrank " + cmd.getCommandName() + ": " + e.getMessage());
          if (System.getenv("FEEDRANK_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
          }
          return 1;
        });
    return cli;
  }
}
