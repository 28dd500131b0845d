package io.feedrank.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code ./feedrank loadtest}, listed with the other commands: the launcher runs it (Gatling in a
 * JVM of its own, on loadtest's test classpath), so this JVM only says so when reached directly.
 */
@Command(
    name = "loadtest",
    mixinStandardHelpOptions = true,
    header = "Run a Gatling load test (steady, ramp, spike or soak) against a ranker.",
    description = {
      "./feedrank loadtest steady|ramp|spike|soak [--target URL] [--rate N] ...: Gatling runs in a",
      "JVM of its own, started by the ./feedrank launcher, not in this JVM; ./feedrank loadtest",
      "without a scenario lists its options. See README, \"Load tests: Gatling\"."
    })
final class LoadtestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Unmatched List<String> args;

  @Override
  public Integer call() {
    spec.commandLine()
        .getErr()
        .println(
            "feedrank loadtest: run it as ./feedrank loadtest steady|ramp|spike|soak [options]:"
                + " the launcher builds loadtest and starts Gatling in a JVM of its own");
    return 2;
  }
}
