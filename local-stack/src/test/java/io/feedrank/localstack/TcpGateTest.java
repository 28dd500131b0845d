package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The forwarder's count of a client's turns, and its reset of a connection caught by a shut,
 * against an echo server on loopback.
 */
class TcpGateTest {

  @Test
  void aBatchWrittenAtOnceIsOneTurnAndEachWriteThatWaitsForItsAnswerIsOne() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      serveEcho(echo);
      try (TcpGate gate = new TcpGate("127.0.0.1", echo.getLocalPort());
          Socket client = new Socket(InetAddress.getLoopbackAddress(), gate.port())) {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        // three writes, each waiting for its echo: three turns
        for (int i = 0; i < 3; i++) {
          out.write('a' + i);
          out.flush();
          assertThat(in.read()).isEqualTo('a' + i);
        }
        assertThat(gate.turns()).isEqualTo(3);
        // three commands written at once, then their three answers: one turn
        out.write(new byte[] {'x', 'y', 'z'});
        out.flush();
        assertThat(in.readNBytes(3)).containsExactly('x', 'y', 'z');
        assertThat(gate.turns()).isEqualTo(4);
      }
    }
  }

  /**
   * A connection the gate accepted while open but had not yet tracked when it was shut is reset, as
   * every other: it once escaped the shut's reset and forwarded through the shut gate, so a test
   * that cut a client off could still see it served.
   */
  @Test
  void aConnectionBeingAcceptedWhenTheGateIsShutIsResetNotForwarded() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      serveEcho(echo);
      try (TcpGate gate = new TcpGate("127.0.0.1", echo.getLocalPort())) {
        CountDownLatch accepted = new CountDownLatch(1);
        CountDownLatch shut = new CountDownLatch(1);
        gate.beforeTrack =
            () -> {
              accepted.countDown();
              try {
                shut.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            };
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), gate.port())) {
          client.setSoTimeout(60_000);
          // the gate has taken the connection in, while open, and not tracked it yet
          assertThat(accepted.await(60, TimeUnit.SECONDS)).isTrue();
          gate.shut();
          shut.countDown();
          assertThat(echoOf(client, 'a')).as("the echo through a shut gate").isEqualTo(-1);
          assertThat(gate.refused()).isEqualTo(1);
        }
      }
    }
  }

  /** What comes back for {@code b}: the byte, or -1 when the connection was reset or closed. */
  private static int echoOf(Socket client, int b) {
    try {
      client.getOutputStream().write(b);
      client.getOutputStream().flush();
      return client.getInputStream().read();
    } catch (IOException e) {
      return -1;
    }
  }

  /** Echoes every byte of the first connection to {@code echo} back to it, on a daemon thread. */
  private static void serveEcho(ServerSocket echo) {
    Thread server =
        new Thread(
            () -> {
              try (Socket s = echo.accept();
                  InputStream in = s.getInputStream();
                  OutputStream out = s.getOutputStream()) {
                byte[] buf = new byte[1024];
                for (int n; (n = in.read(buf)) >= 0; ) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (Exception e) {
                // the client closed
              }
            });
    server.setDaemon(true);
    server.start();
  }
}
