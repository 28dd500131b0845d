package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Main#onDeadThread} and {@link Main#supervise} without a broker: what becomes of a client
 * whose thread died, and that a dead Redis writer fails the app. SupervisionIT runs the same
 * against the real broker.
 */
class SupervisionTest {
  @TempDir(factory = StateDirFactory.class)
  Path stateDir;

  @Test
  void aStreamThreadDeadOfAnExceptionIsReplaced() {
    assertThat(Main.onDeadThread(new StreamsException(new IllegalStateException("x")), false))
        .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
  }

  /**
   * An OutOfMemoryError (or any Error: a StackOverflowError, a class that cannot be loaded) shuts
   * the client down, wrapped or not: a replacement thread cures none of them, and each used to be
   * replaced like an exception.
   */
  @Test
  void aStreamThreadDeadOfAnErrorShutsTheClientDown() {
    for (Throwable e :
        new Throwable[] {
          new OutOfMemoryError("test"),
          new StreamsException("task failed", new OutOfMemoryError("test")),
          new StreamsException(new RuntimeException(new StackOverflowError())),
          new NoClassDefFoundError("io/feedrank/Gone")
        }) {
      assertThat(Main.onDeadThread(e, false))
          .as(e.toString())
          .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
  }

  @Test
  void theGlobalThreadIsNeverReplaced() {
    assertThat(Main.onDeadThread(new IllegalStateException("x"), true))
        .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }

  /** The app fails when its Redis writer does, though its Kafka Streams client runs on. */
  @Test
  void aDeadRedisWriterFailsTheApp() {
    StreamsBuilder b = new StreamsBuilder();
    b.stream("in", Consumed.with(Serdes.String(), Serdes.String())).foreach((k, v) -> {});
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "supervision-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
      CompletableFuture<Void> writerFailed = new CompletableFuture<>();
      CompletableFuture<Void> failed = Main.supervise(streams, writerFailed);
      assertThat(failed).isNotDone();
      writerFailed.complete(null);
      assertThat(failed).succeedsWithin(Duration.ofSeconds(1));
    }
  }
}
