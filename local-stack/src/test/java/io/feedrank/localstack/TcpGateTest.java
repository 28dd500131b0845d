package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** The forwarder's count of a client's turns, against an echo server on loopback. */
class TcpGateTest {

  @Test
  void aBatchWrittenAtOnceIsOneTurnAndEachWriteThatWaitsForItsAnswerIsOne() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
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
}
