package io.feedrank.cli;

import io.feedrank.cli.bench.BenchCommand;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
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
    Optional<String> level = logLevel(System.getenv(LOG_LEVEL));
    if (level.isEmpty()) {
      System.err.println(
          "feedrank: "
              + LOG_LEVEL
              + " must be one of "
              + String.join(", ", LOG_LEVELS)
              + " (any case; unset or empty: INFO), got '"
              + System.getenv(LOG_LEVEL)
              + "'");
      System.exit(2);
    }
    // before anything logs, and so before logback reads its configuration (the commands' classes,
    // loaded by commandLine(), get their loggers): logback.xml's ${FEEDRANK_LOG_LEVEL} is looked up
    // in the system properties before the environment, and so gets the level checked here. As
    // read from the environment, logback took any unknown value ("WARNING", "quiet") for DEBUG, and
    // an empty one for no level, io.feedrank then logging at root's WARN only
    System.setProperty(LOG_LEVEL, level.get());
    System.exit(commandLine().execute(args));
  }

  /** The variable of the platform's own log level ({@code io.feedrank}), in logback.xml. */
  private static final String LOG_LEVEL = "FEEDRANK_LOG_LEVEL";

  /** Logback's levels; OFF and ALL as it reads them too. */
  private static final List<String> LOG_LEVELS =
      List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "ALL");

  /**
   * The log level {@code value} of {@link #LOG_LEVEL} names, upper case: one of {@link
   * #LOG_LEVELS}, any case, blanks around it ignored (as logback reads it); INFO when unset or
   * blank; empty when it names none.
   */
  private static Optional<String> logLevel(String value) {
    if (value == null || value.isBlank()) {
      return Optional.of("INFO");
    }
    String v = value.trim().toUpperCase(Locale.ROOT);
    return LOG_LEVELS.contains(v) ? Optional.of(v) : Optional.empty();
  }

  /** The command line {@link #main} runs: its error handler and help width set. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // the commands' descriptions are written as lines of up to 100 characters: at picocli's
    // default of 80, each line would wrap, leaving a fragment of a few words on a line of its own
    cli.setUsageHelpWidth(100);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          printFailure(cmd.getErr(), cmd.getCommandSpec().qualifiedName(), e);
          if (System.getenv("FEEDRANK_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
          }
          return 1;
        });
    return cli;
  }

  /** Causes printed below a failure's message at most; the stack has the rest. */
  private static final int MAX_CAUSES = 10;

  /**
   * Prints why {@code command} failed: the failure's message, then one {@code caused by} line for
   * each cause that says something the lines above do not. A start that fails often says why only
   * in a cause (Kafka's "Failed to construct kafka producer" over the truststore it could not
   * read), and without a stack (FEEDRANK_DEBUG) that line is all a pod's log shows.
   */
  private static void printFailure(PrintWriter err, String command, Throwable e) {
    List<String> said = new ArrayList<>();
    said.add(text(e));
    err.println(command + ": " + said.get(0));
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    seen.add(e);
    int printed = 0;
    for (Throwable c = e.getCause(); c != null && seen.add(c); c = c.getCause()) {
      String t = text(c);
      if (said.stream().anyMatch(s -> s.contains(t))) {
        continue; // a wrapper's message that repeats its cause's: the cause adds nothing
      }
      if (printed++ == MAX_CAUSES) {
        err.println("  caused by: ... (more causes; FEEDRANK_DEBUG=1 prints the stack)");
        break;
      }
      said.add(t);
      String m = c.getMessage();
      err.println(
          "  caused by: " + c.getClass().getName() + (m == null || m.isBlank() ? "" : ": " + m));
    }
    err.flush();
  }

  /**
   * What {@code e} says: its message, else (none, or blank) its class; with the class for a file
   * system failure, whose message is a bare path ("feedrank demo: /etc/passwd" said nothing of what
   * was wrong).
   */
  private static String text(Throwable e) {
    return e.getMessage() == null || e.getMessage().isBlank() || e instanceof FileSystemException
        ? e.toString()
        : e.getMessage();
  }
}
