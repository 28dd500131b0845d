package io.feedrank.localstack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP forwarder on 127.0.0.1 in front of a real schema registry that answers the first {@code
 * GET /schemas/ids/<id>} of each id with the registry's 404, as a replica that has not yet read a
 * schema registered on another does (a Confluent follower, Apicurio's KafkaSQL storage behind a
 * load balancer), and passes every other request to the registry and its answer back. For tests of
 * the readers that must not take that 404 for a bad record.
 */
public final class LaggingRegistry implements AutoCloseable {
  private static final Pattern SCHEMA_BY_ID = Pattern.compile(".*/schemas/ids/(\\d+)");

  private final URI target;
  private final HttpServer server;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();

  /** In front of the registry at {@code registryUrl} (its ccompat base URL). */
  public LaggingRegistry(String registryUrl) throws IOException {
    this.target = URI.create(registryUrl);
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The base URL to give a client instead of the registry's: the same path on this port. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + target.getRawPath();
  }

  /** How many times the schema of {@code id} was asked for; the first was answered 404 here. */
  public int schemaByIdCalls(int id) {
    AtomicInteger n = calls.get(id);
    return n == null ? 0 : n.get();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      Matcher m = SCHEMA_BY_ID.matcher(ex.getRequestURI().getRawPath());
      if ("GET".equals(ex.getRequestMethod()) && m.matches()) {
        int id = Integer.parseInt(m.group(1));
        if (calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() == 1) {
          String body =
              "{\"error_code\":40403,\"message\":\"Schema " + id + " not found on this replica\"}";
          answer(
              ex,
              404,
              "application/vnd.schemaregistry.v1+json",
              body.getBytes(StandardCharsets.UTF_8));
          return;
        }
      }
      forward(ex);
    }
  }

  private void forward(HttpExchange ex) throws IOException {
    URI uri =
        URI.create(
            "http://"
                + target.getRawAuthority()
                + ex.getRequestURI().getRawPath()
                + (ex.getRequestURI().getRawQuery() == null
                    ? ""
                    : "?" + ex.getRequestURI().getRawQuery()));
    byte[] body = ex.getRequestBody().readAllBytes();
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .method(
                ex.getRequestMethod(),
                body.length == 0
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    for (String h : new String[] {"Content-Type", "Accept", "Authorization"}) {
      String v = ex.getRequestHeaders().getFirst(h);
      if (v != null) {
        req.header(h, v);
      }
    }
    HttpResponse<byte[]> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted forwarding to " + uri, e);
    }
    answer(
        ex,
        resp.statusCode(),
        resp.headers().firstValue("Content-Type").orElse("application/json"),
        resp.body());
  }

  private static void answer(HttpExchange ex, int status, String contentType, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
