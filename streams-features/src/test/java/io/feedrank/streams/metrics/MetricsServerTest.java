package io.feedrank.streams.metrics;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The metrics endpoint on a port another process holds. */
class MetricsServerTest {

  /** One line naming the address and the option, not the JDK's bare "Address already in use". */
  @Test
  void aPortInUseIsRefusedNamingTheAddressAndTheOption() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(
              () ->
                  new MetricsServer(
                      "127.0.0.1", port, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("features metrics: cannot listen on 127.0.0.1:" + port + " (")
          .hasMessageContaining("--metrics-port: another port, or 0 for none");
    }
  }
}
