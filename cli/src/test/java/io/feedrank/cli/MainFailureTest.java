package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What {@code ./feedrank} prints when a command fails: why, from every link of the cause chain. */
class MainFailureTest {
  @TempDir Path dir;

  /**
   * What the command line's handler prints for {@code e} thrown by {@code feedrank bench ranker}.
   */
  static String printed(Exception e) throws Exception {
    StringWriter s = new StringWriter();
    CommandLine root = Main.commandLine();
    root.setErr(new PrintWriter(s));
    CommandLine bench = root.getSubcommands().get("bench").getSubcommands().get("ranker");
    assertThat(root.getExecutionExceptionHandler().handleExecutionException(e, bench, null))
        .isEqualTo(1);
    return s.toString();
  }

  @Test
  void printsEachCauseThatSaysSomethingNew() throws Exception {
    IOException root = new IOException("Keystore file /nonexistent/ts.jks not found");
    KafkaException load = new KafkaException("Failed to load SSL keystore of type JKS", root);
    KafkaException construct = new KafkaException("Failed to construct kafka producer", load);
    // as RankerCommand wraps it: its message repeats its cause's
    IllegalStateException top =
        new IllegalStateException("ranker failed to start: " + construct.getMessage(), construct);
    assertThat(printed(top).lines())
        .containsExactly(
            "feedrank bench ranker: ranker failed to start: Failed to construct kafka producer",
            "  caused by: org.apache.kafka.common.KafkaException: Failed to load SSL keystore of"
                + " type JKS",
            "  caused by: java.io.IOException: Keystore file /nonexistent/ts.jks not found");
  }

  @Test
  void namesTheClassWhereTheMessageIsMissingOrABarePath() throws Exception {
    assertThat(printed(new IllegalArgumentException()))
        .isEqualTo("feedrank bench ranker: java.lang.IllegalArgumentException\n");
    // new UncheckedIOException(cause) takes the cause's toString() as its message: said once
    assertThat(printed(new UncheckedIOException(new AccessDeniedException("/etc/passwd"))).lines())
        .containsExactly("feedrank bench ranker: java.nio.file.AccessDeniedException: /etc/passwd");
    assertThat(
            printed(
                    new IllegalStateException(
                        "the drift job failed", new RuntimeException((String) null)))
                .lines())
        .containsExactly(
            "feedrank bench ranker: the drift job failed",
            "  caused by: java.lang.RuntimeException");
  }

  @Test
  void aLongOrCyclicChainIsBounded() throws Exception {
    Exception e = new Exception("0");
    Exception first = e;
    for (int i = 1; i <= 30; i++) {
      Exception c = new Exception("cause " + i);
      e.initCause(c);
      e = c;
    }
    assertThat(printed(first).lines())
        .hasSize(1 + 10 + 1)
        .last()
        .asString()
        .contains("FEEDRANK_DEBUG");
    Exception a = new Exception("a");
    Exception b = new Exception("b", a);
    a.initCause(b);
    assertThat(printed(a).lines())
        .containsExactly("feedrank bench ranker: a", "  caused by: java.lang.Exception: b");
  }

  /**
   * A ranker whose Kafka client cannot be built (a truststore that is not there) says which file,
   * from the causes of Kafka's "Failed to construct kafka ..." and the qualified command name. The
   * client fails in its constructor, before any connection: nothing listens on these endpoints.
   */
  @Test
  void aRankerThatCannotStartSaysWhy() throws Exception {
    Path config = dir.resolve("ranker.properties");
    Files.writeString(
        config, "kafka.security.protocol=SSL\nkafka.ssl.truststore.location=/nonexistent/ts.jks\n");
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int exit =
        cli.execute(
            "ranker",
            "--config",
            config.toString(),
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--registry-url",
            "http://127.0.0.1:1",
            "--redis-uri",
            "redis://127.0.0.1:1",
            "--artifact-store",
            dir.resolve("artifacts").toString(),
            "--port",
            "0");
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).startsWith("feedrank ranker: ranker failed to start: ");
    assertThat(err.toString()).contains("/nonexistent/ts.jks");
  }
}
