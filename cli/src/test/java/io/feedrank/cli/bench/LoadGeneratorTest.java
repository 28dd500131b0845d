package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The load generator's open-loop schedule, against a local HTTP server that counts requests. */
class LoadGeneratorTest {

  @Test
  void theOpenScheduleIsSentOnceEachAndMeasuredFromTheEndOfTheWarmUp() throws Exception {
    AtomicInteger received = new AtomicInteger();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/rank",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          received.incrementAndGet();
          byte[] out = "{}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/rank";
      // 200 requests/s: one every 5 ms from the start, 0.5 s of warm-up and 1 s measured; the
      // scheduled starts before the end are k = 0..299, those measured k = 100..299
      JsonNode r =
          new ObjectMapper()
              .readTree(
                  LoadGenerator.run(
                      new String[] {url, "open", "7", "200", "1", "3", "10", "50", "1", "0.5"}));

      assertThat(r.get("errors").asInt()).isZero();
      assertThat(received.get()).isEqualTo(300);
      assertThat(r.get("requests").asInt()).isEqualTo(200);
      assertThat(r.get("p50_ms").asDouble()).isPositive();
      assertThat(r.get("send_late_p99_ms").asDouble())
          .isGreaterThanOrEqualTo(r.get("send_late_p50_ms").asDouble())
          .isLessThanOrEqualTo(r.get("max_ms").asDouble());
    } finally {
      server.stop(0);
    }
  }
}
