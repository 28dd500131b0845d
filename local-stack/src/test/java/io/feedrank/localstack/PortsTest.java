package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Free ports are reserved now and bound later, often by another process: they must not be ports the
 * OS hands out meanwhile for outgoing connections or binds to port 0.
 */
class PortsTest {

  @Test
  void freePortsAreBelowTheEphemeralRangeBindableAndNeverHandedOutTwice() throws Exception {
    int ephemeralLow = Ports.ephemeralRange()[0];
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      int p = Ports.freePort();
      assertThat(p).isBetween(Ports.LOWEST, ephemeralLow - 1);
      assertThat(seen.add(p)).as("port %d handed out twice", p).isTrue();
    }
    int p = Ports.freePort();
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), p));
      assertThat(s.getLocalPort()).isEqualTo(p);
    }
  }

  @Test
  void aPortTheOsPicksForABindToZeroIsNeverOneWeHandOut() throws Exception {
    int ephemeralLow = Ports.ephemeralRange()[0];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        ServerSocket s = new ServerSocket();
        held.add(s);
        s.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), 0));
        assertThat(s.getLocalPort()).isGreaterThanOrEqualTo(ephemeralLow);
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  @Test
  void aRedisClusterNodeGetsAPortAndItsBusPortBothFree() throws Exception {
    int ephemeralLow = Ports.ephemeralRange()[0];
    for (int i = 0; i < 50; i++) {
      int p = Ports.freePortWithBus();
      assertThat(p).isGreaterThanOrEqualTo(Ports.LOWEST);
      assertThat(p + 10_000).isLessThan(ephemeralLow);
      try (ServerSocket a = new ServerSocket();
          ServerSocket b = new ServerSocket()) {
        a.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), p));
        b.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), p + 10_000));
      }
    }
  }
}
