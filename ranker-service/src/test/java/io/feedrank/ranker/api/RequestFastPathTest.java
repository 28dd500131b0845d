package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fast path against the general parser (Jackson's tokens): what it reads, it reads the same;
 * what the general parser refuses, it declines.
 */
class RequestFastPathTest {
  static final long NOW = Instant.parse("2026-11-20T12:00:00Z").toEpochMilli();
  final RequestParser parser = new RequestParser(() -> NOW);

  static RankRequest fast(String body) {
    return RequestFastPath.read(
        body.getBytes(StandardCharsets.UTF_8), () -> NOW, RequestParser.DEFAULT_MAX_AHEAD_MILLIS);
  }

  /** The general parser's request, or null when it refuses the body. */
  RankRequest general(String body) {
    try {
      return parser.parseGeneral(body.getBytes(StandardCharsets.UTF_8));
    } catch (BadRequestException e) {
      return null;
    }
  }

  static void assertSame(RankRequest fast, RankRequest general, boolean idGiven, String body) {
    assertThat(fast.userId()).as(body).isEqualTo(general.userId());
    assertThat(fast.itemIds()).as(body).containsExactly(general.itemIds());
    assertThat(fast.device()).as(body).isEqualTo(general.device());
    assertThat(fast.atMillis()).as(body).isEqualTo(general.atMillis());
    assertThat(fast.topK()).as(body).isEqualTo(general.topK());
    if (idGiven) {
      assertThat(fast.requestId()).as(body).isEqualTo(general.requestId());
    } else {
      assertThat(fast.requestId()).hasSize(36);
    }
  }

  @Test
  void theDesignExampleAndTheLoadGeneratorsBodiesTakeIt() {
    String design =
        "{\"user_id\": 123, \"item_ids\": [1001, 1002, 1003], \"context\": {\"device\":"
            + " \"mobile\", \"timestamp\": \"2026-11-15T10:30:00Z\"}, \"top_k\": 10}";
    RankRequest r = fast(design);
    assertThat(r).isNotNull();
    assertThat(r.userId()).isEqualTo(123);
    assertThat(r.itemIds()).containsExactly(1001, 1002, 1003);
    assertThat(r.device()).isEqualTo(Device.MOBILE);
    assertThat(r.atMillis()).isEqualTo(Instant.parse("2026-11-15T10:30:00Z").toEpochMilli());
    assertThat(r.topK()).isEqualTo(3);
    String compact =
        "{\"user_id\":42,\"item_ids\":[7,0,9],\"context\":{\"device\":\"mobile\"},\"top_k\":2}";
    assertSame(fast(compact), general(compact), false, compact);
    assertThat(fast(compact).atMillis()).isEqualTo(NOW);
  }

  @Test
  void randomValidBodiesAreReadAsTheGeneralParserReadsThem() {
    Random random = new Random(4);
    for (int round = 0; round < 2_000; round++) {
      Body b = Body.random(random);
      String body = b.render(random);
      RankRequest f = fast(body);
      assertThat(f).as("declined %s", body).isNotNull();
      assertSame(f, general(body), b.requestId != null, body);
    }
  }

  /**
   * Valid bodies with one byte replaced, inserted or removed: the general parser refuses many and
   * reads some; the fast path declines every body the general parser refuses, and reads what it
   * accepts as the general parser does.
   */
  @Test
  void mutatedBodiesAreDeclinedOrReadAsTheGeneralParserReadsThem() {
    Random random = new Random(9);
    String alphabet = "{}[]\",:0123456789- .eE\\\nnulltruex\u00e9\u0001";
    int refused = 0;
    int readFast = 0;
    for (int round = 0; round < 30_000; round++) {
      Body b = Body.random(random);
      StringBuilder s = new StringBuilder(b.render(random));
      int at = random.nextInt(s.length());
      char c = alphabet.charAt(random.nextInt(alphabet.length()));
      switch (random.nextInt(3)) {
        case 0 -> s.setCharAt(at, c);
        case 1 -> s.insert(at, c);
        default -> s.deleteCharAt(at);
      }
      String body = s.toString();
      RankRequest g = general(body);
      RankRequest f = fast(body);
      if (g == null) {
        refused++;
        assertThat(f).as("read a body the general parser refuses: %s", body).isNull();
      } else if (f != null) {
        readFast++;
        assertSame(f, g, body.contains("request_id"), body);
      }
    }
    assertThat(refused).as("mutations refused").isGreaterThan(10_000);
    assertThat(readFast).as("mutations still read (whitespace, other digits)").isGreaterThan(1_000);
  }

  @Test
  void everyRuleTheGeneralParserRefusesIsDeclined() {
    String ok = "\"item_ids\": [1, 2]";
    for (String body :
        List.of(
            "",
            "[]",
            "{}",
            "{\"user_id\": 1}",
            "{" + ok + "}",
            "{\"user_id\": -1, " + ok + "}",
            "{\"user_id\": 1.5, " + ok + "}",
            "{\"user_id\": \"1\", " + ok + "}",
            "{\"user_id\": null, " + ok + "}",
            "{\"user_id\": 1, \"item_ids\": []}",
            "{\"user_id\": 1, \"item_ids\": [1, 1]}",
            "{\"user_id\": 1, \"item_ids\": [1, -2]}",
            "{\"user_id\": 1, \"item_ids\": [1, 2e3]}",
            "{\"user_id\": 1, \"item_ids\": 5}",
            "{\"user_id\": 1, \"user_id\": 2, " + ok + "}",
            "{\"user_id\": 1, " + ok + ", \"top_k\": 0}",
            "{\"user_id\": 1, " + ok + ", \"top_k\": -3000000000}",
            "{\"user_id\": 1, " + ok + ", \"context\": {\"timestamp\": \"2026-11-20T13:00:01Z\"}}",
            "{\"user_id\": 1, " + ok + ", \"context\": {\"timestamp\": \"1969-12-31T23:59:59Z\"}}",
            "{\"user_id\": 1, " + ok + ", \"request_id\": \"\"}",
            "{\"user_id\": 1, " + ok + ", \"request_id\": \"" + "r".repeat(129) + "\"}",
            "{\"user_id\": 1, " + ok + ", \"context\": {\"device\": \"phone\"}}",
            "{\"user_id\": 1, " + ok + ", \"context\": {\"timestamp\": \"yesterday\"}}",
            "{\"user_id\": 1, " + ok + ", \"context\": [1]}",
            "{\"user_id\": 1, " + ok + "} trailing",
            "{\"user_id\": 1, " + ok + "} {}",
            "{\"user_id\": 1, " + ok)) {
      assertThat(general(body)).as("the general parser refuses %s", body).isNull();
      assertThat(fast(body)).as(body).isNull();
    }
    StringBuilder many = new StringBuilder("{\"user_id\": 1, \"item_ids\": [0");
    for (int i = 1; i <= RankRequest.MAX_CANDIDATES; i++) {
      many.append(',').append(i);
    }
    assertThat(fast(many.append("]}").toString())).isNull();
  }

  @Test
  void validBodiesBeyondItsSubsetAreLeftToTheGeneralParser() {
    for (String body :
        List.of(
            "{\"user_id\": 1, \"item_ids\": [1], \"debug\": true}",
            "{\"user_id\": 1, \"item_ids\": [1], \"context\": {\"device\": \"mobile\", \"x\": 1}}",
            "{\"user_id\": 1, \"item_ids\": [1], \"context\": null}",
            "{\"user_id\": 1, \"item_ids\": [1], \"request_id\": \"caf\u00e9\"}",
            "{\"user_id\": 1, \"item_ids\": [1], \"request_id\": \"a\\\"b\"}",
            "{\"user_id\": 1234567890123456789, \"item_ids\": [1]}")) {
      assertThat(general(body)).as(body).isNotNull();
      assertThat(fast(body)).as(body).isNull();
    }
  }

  /** A valid request's fields, rendered in a random order with random whitespace. */
  record Body(
      long userId, Set<Long> ids, String device, String timestamp, Integer topK, String requestId) {
    static Body random(Random r) {
      int n = 1 + r.nextInt(r.nextBoolean() ? 10 : RankRequest.MAX_CANDIDATES);
      Set<Long> ids = new LinkedHashSet<>();
      while (ids.size() < n) {
        ids.add(
            r.nextBoolean()
                ? r.nextInt(50_000)
                : Math.floorMod(r.nextLong(), 1_000_000_000_000_000_000L));
      }
      String[] devices = {"mobile", "DESKTOP", "Tablet", "unknown"};
      return new Body(
          r.nextInt(4) == 0 ? 0 : Math.floorMod(r.nextLong(), 1_000_000_000_000_000_000L),
          ids,
          r.nextBoolean() ? devices[r.nextInt(devices.length)] : null,
          // any time up to the hour ahead of the server's clock the ranker takes
          r.nextBoolean()
              ? Instant.ofEpochSecond(r.nextInt((int) (NOW / 1000 + 3600 + 1))).toString()
              : null,
          r.nextBoolean() ? 1 + r.nextInt(1_200) : null,
          r.nextBoolean() ? "req-" + r.nextInt(1_000_000) : null);
    }

    String render(Random r) {
      List<String> fields = new ArrayList<>();
      StringBuilder list = new StringBuilder("[");
      boolean first = true;
      for (long id : ids) {
        list.append(first ? "" : ",").append(ws(r)).append(id).append(ws(r));
        first = false;
      }
      fields.add("\"item_ids\"" + ws(r) + ":" + ws(r) + list + "]");
      fields.add("\"user_id\":" + ws(r) + userId);
      if (topK != null) {
        fields.add("\"top_k\"" + ws(r) + ":" + topK);
      }
      if (requestId != null) {
        fields.add("\"request_id\":" + ws(r) + "\"" + requestId + "\"");
      }
      if (device != null || timestamp != null || r.nextInt(8) == 0) {
        List<String> ctx = new ArrayList<>();
        if (device != null) {
          ctx.add("\"device\":" + ws(r) + "\"" + device + "\"");
        }
        if (timestamp != null) {
          ctx.add("\"timestamp\"" + ws(r) + ":\"" + timestamp + "\"");
        }
        Collections.shuffle(ctx, r);
        fields.add("\"context\":" + ws(r) + "{" + ws(r) + String.join("," + ws(r), ctx) + "}");
      }
      Collections.shuffle(fields, r);
      return ws(r) + "{" + ws(r) + String.join(ws(r) + "," + ws(r), fields) + ws(r) + "}" + ws(r);
    }

    private static String ws(Random r) {
      return switch (r.nextInt(6)) {
        case 0 -> " ";
        case 1 -> "\n  ";
        case 2 -> "\t";
        case 3 -> "\r\n";
        default -> "";
      };
    }
  }
}
