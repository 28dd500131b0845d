package io.feedrank.ranker.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 by hand over a socket, for what a client library will not do: declare a length and not
 * send the body, stop a chunked body halfway, read a {@code 100 Continue}. Reads block at most 10
 * s.
 */
final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
  }

  record Response(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  void send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
  }

  /** The next response: status line, headers, and a body of its Content-Length (none for 1xx). */
  Response response() throws IOException {
    String status = line();
    // 1.0 too: the answer to a request that could not be decoded has HTTP/1.0's version
    if (!status.startsWith("HTTP/1.1 ") && !status.startsWith("HTTP/1.0 ")) {
      throw new IOException("not a status line: " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    Map<String, String> headers = new HashMap<>();
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      headers.put(
          h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    int length = code < 200 ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new IOException("body ended after " + body.length + " of " + length + " bytes");
    }
    return new Response(code, headers, new String(body, StandardCharsets.UTF_8));
  }

  /** Whether the connection is still open, nothing read from it, after {@code millis}. */
  boolean openFor(int millis) throws IOException {
    socket.setSoTimeout(millis);
    try {
      in.read();
      return false; // a byte, or the end of the stream: not waiting for more
    } catch (SocketTimeoutException e) {
      return true;
    } catch (IOException e) {
      return false; // reset
    } finally {
      socket.setSoTimeout(10_000);
    }
  }

  /** Whether the server closes the connection (end of stream) within the read timeout. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset: closed with bytes of ours unread
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c == -1) {
        throw new IOException("connection closed in a line: " + b);
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
