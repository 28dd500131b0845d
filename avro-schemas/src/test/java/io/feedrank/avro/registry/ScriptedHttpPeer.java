package io.feedrank.avro.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An HTTP server on 127.0.0.1 that answers each request with the next scripted response (or a
 * fallback once the script is used up) and records what it received.
 */
final class ScriptedHttpPeer implements AutoCloseable {
  record Response(int status, String body) {}

  record Request(String method, String path, Map<String, List<String>> headers, String body) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase());
      return values == null ? null : String.join(",", values);
    }
  }

  private final HttpServer server;
  private final Deque<Response> script = new ArrayDeque<>();
  private final List<Request> requests = new ArrayList<>();
  private Response fallback =
      new Response(500, "{\"error_code\":50000,\"message\":\"unscripted\"}");

  ScriptedHttpPeer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Base URL, optionally with a path prefix such as {@code /apis/ccompat/v7}. */
  String url(String prefix) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + prefix;
  }

  String url() {
    return url("");
  }

  synchronized ScriptedHttpPeer then(int status, String body) {
    script.add(new Response(status, body));
    return this;
  }

  synchronized ScriptedHttpPeer otherwise(int status, String body) {
    fallback = new Response(status, body);
    return this;
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  synchronized Request onlyRequest() {
    if (requests.size() != 1) {
      throw new AssertionError("expected exactly one request, got " + requests);
    }
    return requests.get(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Map<String, List<String>> headers = new TreeMap<>();
      ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), List.copyOf(v)));
      Response r;
      synchronized (this) {
        requests.add(
            new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), headers, body));
        r = script.isEmpty() ? fallback : script.poll();
      }
      byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
      ex.sendResponseHeaders(r.status(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(out);
        }
      }
    } finally {
      ex.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
