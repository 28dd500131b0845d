package io.feedrank.cli;

import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * {@code ./feedrank up} whose start logs one line, {@code the start fails at once}, and fails: as
 * when a part of the platform cannot start, and the console asks to look into the log.
 */
public final class UpWithAFailingStart {
  private UpWithAFailingStart() {}

  public static void main(String[] args) {
    UpCommand up = new UpCommand();
    up.start =
        (options, progress) -> {
          LoggerFactory.getLogger(UpWithAFailingStart.class).error("the start fails at once");
          throw new IllegalStateException("a start that fails at once");
        };
    System.exit(new CommandLine(up).execute(args));
  }
}
