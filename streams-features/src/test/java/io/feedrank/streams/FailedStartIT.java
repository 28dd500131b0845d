package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.localstack.Ports;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that Kafka Streams itself refuses, against the real broker: with no {@code items} and
 * {@code users} topics its global thread fails while the client starts. Everything opened before is
 * closed again, the metrics server too: its port would stay bound, and its non-daemon dispatcher
 * thread alive, in the JVM of {@code ./feedrank up} or a test run.
 */
@LocalStackTest
class FailedStartIT {
  @TempDir(factory = StateDirFactory.class)
  Path stateDir;

  @Test
  void aStartWithoutItsTopicsClosesTheMetricsServer(LocalStack stack) throws Exception {
    int port = Ports.freePort();
    String suffix = "-absent-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> p =
        Map.of(
            "bootstrap.servers", stack.bootstrapServers(),
            "schema.registry.url", stack.registryUrl(),
            "redis.uri", stack.redisUri(),
            "application.id", "features-failed-start" + suffix,
            "state.dir", stateDir.toString(),
            "topic.suffix", suffix,
            "metrics.host", "127.0.0.1",
            "metrics.port", Integer.toString(port));
    List<Thread> before = dispatchers();

    assertThatThrownBy(() -> Main.start(FeaturesConfig.from(p)))
        .hasStackTraceContaining("no partitions available");

    List<Thread> after = dispatchers();
    after.removeAll(before);
    assertThat(after).isEmpty();
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  private static List<Thread> dispatchers() {
    return new java.util.ArrayList<>(
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && t.getName().startsWith("HTTP-Dispatcher"))
            .toList());
  }
}
