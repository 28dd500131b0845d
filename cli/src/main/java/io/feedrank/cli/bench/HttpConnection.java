package io.feedrank.cli.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection for the load generator: writes a prepared POST, reads the
 * status line, headers and a {@code Content-Length} body. Deliberately minimal — no thread
 * hand-offs, no allocation beyond the response — so that the generator's own cost and latency stay
 * small next to the server's on a machine they share. Not thread-safe: one per client thread.
 */
final class HttpConnection implements AutoCloseable {
  private final URI uri;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final byte[] buf = new byte[1 << 16];

  HttpConnection(URI uri) {
    this.uri = uri;
  }

  /** The bytes of a POST of {@code body} as JSON to this connection's URI. */
  static byte[] post(URI uri, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST "
            + uri.getRawPath()
            + " HTTP/1.1\r\nHost: "
            + uri.getHost()
            + ":"
            + uri.getPort()
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + b.length
            + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[h.length + b.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(b, 0, all, h.length, b.length);
    return all;
  }

  /** The bytes of a GET of this connection's URI. */
  static byte[] get(URI uri) {
    return ("GET "
            + uri.getRawPath()
            + " HTTP/1.1\r\nHost: "
            + uri.getHost()
            + ":"
            + uri.getPort()
            + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** Sends a prepared request and returns the status code; reconnects once if the peer closed. */
  int send(byte[] request) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        if (socket == null) {
          socket = new Socket();
          socket.setTcpNoDelay(true);
          socket.setSoTimeout(10_000);
          socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
          in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
          out = socket.getOutputStream();
        }
        out.write(request);
        out.flush();
        return readResponse();
      } catch (IOException e) {
        close();
        if (attempt > 0) {
          throw e;
        }
      }
    }
  }

  private int readResponse() throws IOException {
    String status = line();
    if (status == null || !status.startsWith("HTTP/1.1 ")) {
      throw new IOException("bad status line: " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean close = false;
    for (String h = line(); h != null && !h.isEmpty(); h = line()) {
      String lower = h.toLowerCase(java.util.Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(h.substring(15).trim());
      } else if (lower.startsWith("connection:") && lower.contains("close")) {
        close = true;
      }
    }
    if (length < 0) {
      throw new IOException("response without Content-Length");
    }
    while (length > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, length));
      if (n < 0) {
        throw new IOException("connection closed mid-body");
      }
      length -= n;
    }
    if (close) {
      close();
    }
    return code;
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder(64);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() {
    try {
      if (socket != null) {
        socket.close();
      }
    } catch (IOException ignored) {
      // closing anyway
    }
    socket = null;
  }
}
