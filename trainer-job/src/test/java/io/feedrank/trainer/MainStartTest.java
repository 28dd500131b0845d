package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.localstack.Ports;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A trainer whose wiring is refused leaves nothing open: its metrics server held the port, with a
 * non-daemon thread, in the JVM that lives on ({@code ./feedrank up}'s, a test run's).
 */
class MainStartTest {
  @Test
  void aStartRefusedAfterItsConfigIsReadLeavesTheMetricsPortFree() throws Exception {
    int port = Ports.freePort();
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9");
    p.put("schema.registry.url", "http://127.0.0.1:9/apis/ccompat/v7");
    p.put("metrics.host", "127.0.0.1");
    p.put("metrics.port", Integer.toString(port));
    p.put("artifact.store", "s3://x");
    TrainerConfig s3 = TrainerConfig.from(p);
    assertThatThrownBy(() -> new Main(s3, Clock.systemUTC())).hasMessageContaining("'s3://x'");
    assertBinds(port);

    p.put("artifact.store", "target/artifacts");
    p.put("kafka.max.in.flight.requests.per.connection", "10"); // too many for idempotence
    TrainerConfig kafka = TrainerConfig.from(p);
    assertThatThrownBy(() -> new Main(kafka, Clock.systemUTC()))
        .hasStackTraceContaining("max.in.flight.requests.per.connection");
    assertBinds(port);
  }

  private static void assertBinds(int port) throws Exception {
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }
}
