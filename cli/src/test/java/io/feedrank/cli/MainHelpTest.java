package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What {@code ./feedrank --help} and each command's help print. */
class MainHelpTest {
  static List<CommandLine> everyCommand(CommandLine c) {
    List<CommandLine> out = new ArrayList<>(List.of(c));
    for (CommandLine sub : c.getSubcommands().values()) {
      if (!out.contains(sub)) {
        out.addAll(everyCommand(sub));
      }
    }
    return out;
  }

  static String summary(CommandLine c) {
    String[] header = c.getCommandSpec().usageMessage().header();
    return header.length > 0 ? header[0] : c.getCommandSpec().usageMessage().description()[0];
  }

  @Test
  void everyCommandIsListedWithACompleteSentenceOnOneLine() {
    CommandLine root = Main.commandLine();
    List<String> lines = Arrays.asList(root.getUsageMessage().split("\\R"));
    for (CommandLine sub : root.getSubcommands().values()) {
      if (sub.getCommand() instanceof CommandLine.HelpCommand) {
        continue;
      }
      String s = summary(sub);
      // the list shows a command's first line: a sentence cut at a line break reads as garbage
      assertThat(s).as(sub.getCommandName()).endsWith(".");
      assertThat(lines)
          .as(sub.getCommandName())
          .anyMatch(l -> l.startsWith("  " + sub.getCommandName() + " ") && l.endsWith(s));
    }
  }

  @Test
  void descriptionLinesAreNotWrapped() {
    for (CommandLine c : everyCommand(Main.commandLine())) {
      if (c.getCommand() instanceof CommandLine.HelpCommand) {
        continue; // picocli's own
      }
      List<String> lines =
          Arrays.stream(c.getUsageMessage().split("\\R")).map(String::strip).toList();
      for (String d : c.getCommandSpec().usageMessage().description()) {
        assertThat(lines).as(c.getCommandSpec().qualifiedName()).contains(d.strip());
      }
    }
  }

  /**
   * Picocli formats every description as a format string ({@code %n}: a line break): a lone {@code
   * %} makes it print a warning with the help, and the text unformatted.
   */
  @Test
  void helpIsPrintedWithoutPicocliWarnings() {
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(seen, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      for (CommandLine c : everyCommand(Main.commandLine())) {
        c.getUsageMessage();
      }
    } finally {
      System.setErr(err);
    }
    assertThat(seen.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("WARN");
  }

  /** The launcher runs load tests; the cli, reached with one, says how instead of failing oddly. */
  @Test
  void loadtestReachedInTheJvmSaysToRunItThroughTheLauncher() {
    CommandLine cli = Main.commandLine();
    java.io.StringWriter err = new java.io.StringWriter();
    cli.setErr(new java.io.PrintWriter(err, true));
    assertThat(cli.execute("loadtest", "steady", "--rate", "100")).isEqualTo(2);
    assertThat(err.toString()).contains("./feedrank loadtest steady|ramp|spike|soak");
  }
}
