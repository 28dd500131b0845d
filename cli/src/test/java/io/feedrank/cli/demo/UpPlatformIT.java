package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.simulator.SimulatorConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code ./feedrank up}'s platform without its bootstrap (no history, no real-time traffic): the
 * ranker keys given to it ({@code --ranker-config}) reach the ranker it serves, and with a state
 * directory of the user's ({@code --dir}) all its state stays there after the stop.
 */
class UpPlatformIT {
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void rankerKeysGivenToUpReachTheRankerAndItsOwnDirectoryIsKept() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "up-it-").toAbsolutePath();
    // a bucket of two requests that refills once in 100 s: the third request in a row is refused
    Map<String, String> rankerConfig =
        Map.of("rate.limit.per.second", "0.01", "rate.limit.burst", "2");
    try (UpPlatform up =
        UpPlatform.start(
            new UpPlatform.Options(
                dir,
                false,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                1,
                1,
                SimulatorConfig.DEMO_USERS,
                SimulatorConfig.DEMO_ITEMS,
                Duration.ZERO,
                0,
                rankerConfig),
            s -> {})) {
      String rank = "http://127.0.0.1:" + up.platform().ranker().port() + "/v1/rank";
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        statuses.add(
            HTTP.send(
                    HttpRequest.newBuilder(URI.create(rank))
                        .header("Content-Type", "application/json")
                        .POST(
                            HttpRequest.BodyPublishers.ofString(
                                "{\"user_id\": 7, \"item_ids\": [3, 1, 2], \"top_k\": 2}"))
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode());
      }
      assertThat(statuses)
          .as("rate.limit.burst=2 from up's ranker keys")
          .containsExactly(200, 200, 429);
    }
    try {
      // Kafka's log with the rest: the stack's directory was deleted whatever --dir said
      for (String kept : List.of("stack", "streams-state")) {
        assertThat(dir.resolve(kept)).as(kept + ", kept with --dir").isNotEmptyDirectory();
      }
      try (var files = Files.walk(dir.resolve("stack"))) {
        assertThat(files.map(Path::getFileName).map(Path::toString))
            .as("a Kafka partition's log")
            .anyMatch(n -> n.endsWith(".log"));
      }
    } finally {
      UpPlatform.deleteTree(dir);
    }
  }
}
