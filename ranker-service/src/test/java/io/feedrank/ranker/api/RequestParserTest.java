package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.events.Device;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestParserTest {
  static final long NOW = Instant.parse("2026-11-20T12:00:00Z").toEpochMilli();
  final RequestParser parser = new RequestParser(() -> NOW);

  RankRequest parse(String json) {
    return parser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  BadRequestException refused(String json) {
    return catchThrowableOfType(BadRequestException.class, () -> parse(json));
  }

  /**
   * What a client sent is repeated in a message up to 64 characters, with its length: a device of
   * 8,000 characters was repeated whole.
   */
  @Test
  void aLongValueIsRepeatedCutWithItsLength() {
    String device = "x".repeat(8000);
    BadRequestException e =
        refused(
            "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"device\": \"" + device + "\"}}");
    assertThat(e.getMessage())
        .isEqualTo(
            "unknown device '"
                + "x".repeat(64)
                + "... (8000 characters)'; one of mobile, desktop, tablet, unknown");
    BadRequestException k =
        refused("{\"user_id\": 1, \"item_ids\": [4], \"top_k\": -" + "9".repeat(900) + "}");
    assertThat(k.getMessage())
        .isEqualTo("must be >= 1, got -" + "9".repeat(63) + "... (901 characters)");
    assertThat(RequestParser.shown("short")).isEqualTo("short");
    String pair = "a".repeat(63) + "\uD83D\uDE00" + "b"; // a surrogate pair across the cut
    assertThat(RequestParser.shown(pair)).isEqualTo("a".repeat(63) + "... (66 characters)");
  }

  /**
   * The parser's limits and refusals are described without its hints to Java programmers (a
   * getter's name, a feature to enable), which told a client what the server is built with.
   */
  @Test
  void theParsersRefusalsCarryNoJavaNames() {
    BadRequestException deep =
        refused("{\"user_id\": 1, \"item_ids\": [4], \"x\": " + "[".repeat(2000) + "}");
    assertThat(deep.field()).isEqualTo("body");
    assertThat(deep.getMessage())
        .startsWith(
            "malformed JSON: Document nesting depth (1001) exceeds the maximum allowed (1000)")
        .doesNotContain("`")
        .doesNotContain("StreamReadConstraints");
    // the client's own text, which the parser quotes, is cut as any other repeated value
    BadRequestException token = refused("{\"user_id\": " + "y".repeat(500) + "}");
    assertThat(token.getMessage())
        .startsWith("malformed JSON: Unrecognized token '" + "y".repeat(64) + "... (")
        .doesNotContain("y".repeat(65));
    String name = "n".repeat(500);
    BadRequestException dup =
        refused("{\"user_id\": 1, \"item_ids\": [4], \"" + name + "\": 1, \"" + name + "\": 2}");
    assertThat(dup.getMessage())
        .isEqualTo("malformed JSON: Duplicate field '" + "n".repeat(64) + "... (500 characters)'");
    // the parser's own prose between quoted words is left whole
    for (String body : List.of("{/", "{\"user_id\": #")) {
      assertThat(refused(body).getMessage())
          .as(body)
          .doesNotContain("... (")
          .doesNotContain("Source")
          .doesNotContain("StreamReadFeature");
    }
    // a location, without the parser's source setting
    assertThat(refused("{\"user_id\": 1, \"item_ids\": [1,2").getMessage())
        .isEqualTo(
            "malformed JSON: Unexpected end-of-input: expected close marker for Array (opened at"
                + " line 1, column 28)");
    BadRequestException nan = refused("{\"user_id\": NaN, \"item_ids\": [4]}");
    assertThat(nan.getMessage())
        .isEqualTo("malformed JSON: Non-standard token 'NaN'")
        .doesNotContain("JsonReadFeature");
  }

  @Test
  void readsTheDesignExample() {
    RankRequest r =
        parse(
            "{\"user_id\": 123, \"item_ids\": [1001, 1002, 1003], \"context\": {\"device\":"
                + " \"mobile\", \"timestamp\": \"2026-11-15T10:30:00Z\"}, \"top_k\": 2}");
    assertThat(r.userId()).isEqualTo(123);
    assertThat(r.itemIds()).containsExactly(1001, 1002, 1003);
    assertThat(r.device()).isEqualTo(Device.MOBILE);
    assertThat(r.atMillis()).isEqualTo(Instant.parse("2026-11-15T10:30:00Z").toEpochMilli());
    assertThat(r.topK()).isEqualTo(2);
    assertThat(r.requestId()).hasSize(36);
  }

  @Test
  void aRequestWithoutAnIdGetsADistinctVersion4Uuid() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    java.util.Set<Character> firstHex = new java.util.HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = RequestParser.randomId();
      java.util.UUID u = java.util.UUID.fromString(id);
      assertThat(u.version()).isEqualTo(4);
      assertThat(u.variant()).isEqualTo(2); // IETF
      assertThat(u.toString()).isEqualTo(id);
      assertThat(seen.add(id)).as("repeated %s", id).isTrue();
      firstHex.add(id.charAt(0));
    }
    assertThat(firstHex).as("random leading digits").hasSize(16);
    assertThat(parse("{\"user_id\": 1, \"item_ids\": [1]}").requestId())
        .isNotEqualTo(parse("{\"user_id\": 1, \"item_ids\": [1]}").requestId());
  }

  @Test
  void defaultsContextToNowUnknownDeviceAndAllCandidates() {
    RankRequest r = parse("{\"user_id\": 0, \"item_ids\": [5], \"extra\": {\"x\": [1]}}");
    assertThat(r.atMillis()).isEqualTo(NOW);
    assertThat(r.device()).isEqualTo(Device.UNKNOWN);
    assertThat(r.topK()).isEqualTo(1);
    assertThat(parse("{\"user_id\": 1, \"item_ids\": [5, 6], \"top_k\": 50}").topK()).isEqualTo(2);
    // beyond an int too: all of them, as below it
    assertThat(parse("{\"user_id\": 1, \"item_ids\": [5, 6], \"top_k\": 3000000000}").topK())
        .isEqualTo(2);
  }

  @Test
  void aRequestTimeUpToAnHourAheadOfTheServersClockIsTaken() {
    String hourAhead = "2026-11-20T13:00:00Z"; // NOW + 1 h
    RankRequest r =
        parse(
            "{\"user_id\": 1, \"item_ids\": [5], \"context\": {\"timestamp\": \""
                + hourAhead
                + "\"}}");
    assertThat(r.atMillis()).isEqualTo(Instant.parse(hourAhead).toEpochMilli());
    assertThat(
            parse(
                    "{\"user_id\": 1, \"item_ids\": [5], \"context\": {\"timestamp\":"
                        + " \"1970-01-01T00:00:00Z\"}}")
                .atMillis())
        .isZero();
    // a simulation running ahead of the clock (the demo's) takes any time ahead
    assertThat(
            new RequestParser(() -> NOW, Long.MAX_VALUE)
                .parse(
                    ("{\"user_id\": 1, \"item_ids\": [5], \"context\": {\"timestamp\":"
                            + " \"2099-01-01T00:00:00Z\"}}")
                        .getBytes(StandardCharsets.UTF_8))
                .atMillis())
        .isEqualTo(Instant.parse("2099-01-01T00:00:00Z").toEpochMilli());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "not json                                     | body              | malformed JSON",
        "[1, 2]                                       | body              | expected a JSON object",
        "{\"user_id\": 1, \"user_id\": 2, \"item_ids\": [1]} | body     | malformed JSON",
        "{\"item_ids\": [1]}                          | user_id           | is required",
        "{\"user_id\": \"12\", \"item_ids\": [1]}     | user_id           | must be an integer, got a string",
        "{\"user_id\": 1.5, \"item_ids\": [1]}        | user_id           | must be an integer, got a non-integer number",
        "{\"user_id\": -3, \"item_ids\": [1]}         | user_id           | must be >= 0, got -3",
        "{\"user_id\": 99999999999999999999, \"item_ids\": [1]} | user_id | out of range",
        "{\"user_id\": 1}                             | item_ids          | is required",
        "{\"user_id\": 1, \"item_ids\": 7}            | item_ids          | must be an array",
        "{\"user_id\": 1, \"item_ids\": []}           | item_ids          | at least 1",
        "{\"user_id\": 1, \"item_ids\": [4, 5, 4]}    | item_ids[2]       | duplicate id 4",
        "{\"user_id\": 1, \"item_ids\": [4, -5]}      | item_ids[1]       | must be >= 0, got -5",
        "{\"user_id\": 1, \"item_ids\": [4, \"x\"]}   | item_ids[1]       | must be an integer",
        "{\"user_id\": 1, \"item_ids\": [4, null]}    | item_ids[1]       | is required",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": 3} | context    | must be an object",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"device\": \"fridge\"}} | context.device | unknown device 'fridge'",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"device\": 1}} | context.device | must be a string",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"timestamp\": \"yesterday\"}} | context.timestamp | not an ISO-8601 instant",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"timestamp\": 1700000000}} | context.timestamp | must be an ISO-8601 string",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"timestamp\": \"2026-11-20T13:00:00.001Z\"}} | context.timestamp | more than 1h ahead of the server's clock (2026-11-20T12:00:00Z)",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"timestamp\": \"2099-01-01T00:00:00Z\"}} | context.timestamp | more than 1h ahead",
        "{\"user_id\": 1, \"item_ids\": [4], \"context\": {\"timestamp\": \"1969-12-31T23:59:59Z\"}} | context.timestamp | before 1970-01-01T00:00:00Z",
        "{\"user_id\": 1, \"item_ids\": [4], \"top_k\": -3000000000} | top_k | must be >= 1, got -3000000000",
        "{\"user_id\": 1, \"item_ids\": [4], \"top_k\": 0} | top_k        | must be >= 1, got 0",
        "{\"user_id\": 1, \"item_ids\": [4], \"top_k\": \"3\"} | top_k    | must be an integer",
        "{\"user_id\": 1, \"item_ids\": null}        | item_ids          | is required",
        "{\"user_id\": 1, \"item_ids\": [4, 1e3]}    | item_ids[1]       | must be an integer, got a non-integer number",
        "{\"user_id\": 1, \"item_ids\": [4, [5]]}    | item_ids[1]       | must be an integer, got an array",
        "{\"user_id\": 1, \"item_ids\": [4, 99999999999999999999]} | item_ids[1] | out of range",
        "{\"user_id\": 1, \"item_ids\": [4, 5, 4, -1]} | item_ids[3]     | must be >= 0",
        "{\"item_ids\": [4, \"x\"], \"user_id\": \"u\"} | user_id      | must be an integer, got a string",
        "{\"item_ids\": [4, 5], \"user_id\": 1, \"x\": [1,} | body        | malformed JSON",
        "{\"user_id\": 1, \"item_ids\": [4, 5]          | body              | malformed JSON",
        "{\"user_id\": 1, \"item_ids\": [4, 5           | body              | malformed JSON",
        "{\"user_id\": 1, \"item_ids\": [4], \"x\": {\"a\": 1, \"a\": 2}} | body | malformed JSON",
        "[1, 2                                        | body              | malformed JSON",
        "null                                         | body              | expected a JSON object",
        "{\"user_id\": 1, \"item_ids\": [4]} trailing   | body              | malformed JSON",
        "{\"user_id\": 1, \"item_ids\": [4]} {}         | body              | content after the JSON object",
      })
  void refusesWithTheFieldNamed(String json, String field, String message) {
    BadRequestException e = refused(json);
    assertThat(e).as(json).isNotNull();
    assertThat(e.field()).isEqualTo(field);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void refusesAnEmptyBodyAndMoreThanAThousandCandidates() {
    BadRequestException empty =
        catchThrowableOfType(BadRequestException.class, () -> parser.parse(new byte[0]));
    assertThat(empty.field()).isEqualTo("body");
    assertThat(HttpCommon.badRequestBody(empty).get("message"))
        .isEqualTo("body is empty; expected a JSON object");
    StringJoiner ids = new StringJoiner(",", "[", "]");
    for (int i = 0; i < 1_001; i++) {
      ids.add(Integer.toString(i));
    }
    BadRequestException e = refused("{\"user_id\": 1, \"item_ids\": " + ids + "}");
    assertThat(e.field()).isEqualTo("item_ids");
    assertThat(e.getMessage()).contains("holds 1001 ids; at most 1000");
    StringJoiner ok = new StringJoiner(",", "[", "]");
    for (int i = 0; i < 1_000; i++) {
      ok.add(Integer.toString(i));
    }
    assertThat(parse("{\"user_id\": 1, \"item_ids\": " + ok + "}").itemIds()).hasSize(1_000);
    // the count is named even when a later element is not an id
    assertThat(refused("{\"user_id\": 1, \"item_ids\": " + ids + ", \"top_k\": 1}").getMessage())
        .contains("holds 1001 ids");
    StringJoiner badTail = new StringJoiner(",", "[", "]");
    for (int i = 0; i < 1_200; i++) {
      badTail.add(i == 1_100 ? "{\"x\": [1]}" : Integer.toString(i));
    }
    assertThat(refused("{\"user_id\": 1, \"item_ids\": " + badTail + "}").getMessage())
        .contains("holds 1200 ids");
  }

  /**
   * Random valid bodies — fields in any order, unknown fields with nested values, ids up to
   * Long.MAX_VALUE — read the same as Jackson's own tree of the body says they hold.
   */
  @Test
  void readsWhatJacksonsTreeOfTheBodyHolds() throws Exception {
    ObjectMapper json = new ObjectMapper();
    Random random = new Random(20261123);
    for (int round = 0; round < 300; round++) {
      int n = 1 + random.nextInt(random.nextBoolean() ? 20 : 1_000);
      Set<Long> distinct = new LinkedHashSet<>();
      while (distinct.size() < n) {
        distinct.add(
            switch (random.nextInt(4)) {
              case 0 -> (long) random.nextInt(128);
              case 1 -> Long.MAX_VALUE - random.nextInt(1_000);
              default -> random.nextLong() & Long.MAX_VALUE;
            });
      }
      List<String> fields = new ArrayList<>();
      StringJoiner ids = new StringJoiner(random.nextBoolean() ? "," : " ,\n ", "[", "]");
      distinct.forEach(id -> ids.add(Long.toString(id)));
      fields.add("\"item_ids\": " + ids);
      fields.add("\"user_id\": " + (random.nextLong() & Long.MAX_VALUE));
      if (random.nextBoolean()) {
        fields.add("\"top_k\": " + (1 + random.nextInt(50)));
      }
      if (random.nextBoolean()) {
        fields.add(
            "\"context\": {\"device\": \"tablet\", \"timestamp\": \"2026-11-15T10:30:00Z\"}");
      }
      if (random.nextBoolean()) {
        fields.add("\"request_id\": \"r-" + round + "\"");
      }
      if (random.nextBoolean()) {
        fields.add("\"debug\": {\"item_ids\": [1, 1], \"nested\": [[{\"user_id\": -1}], null]}");
      }
      Collections.shuffle(fields, random);
      String body = "{" + String.join(", ", fields) + "}";

      RankRequest r = parse(body);
      JsonNode tree = json.readTree(body);
      long[] expected = new long[tree.get("item_ids").size()];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = tree.get("item_ids").get(i).longValue();
      }
      assertThat(r.itemIds()).as(body).containsExactly(expected);
      assertThat(r.userId()).isEqualTo(tree.get("user_id").longValue());
      assertThat(r.topK())
          .isEqualTo(
              tree.has("top_k")
                  ? Math.min(tree.get("top_k").intValue(), expected.length)
                  : expected.length);
      assertThat(r.device()).isEqualTo(tree.has("context") ? Device.TABLET : Device.UNKNOWN);
      if (tree.has("request_id")) {
        assertThat(r.requestId()).isEqualTo(tree.get("request_id").textValue());
      }
    }
  }

  /** The duplicate check against a {@code HashSet}, over many requests on one thread's table. */
  @Test
  void repeatsAreFoundExactlyAsAHashSetFindsThem() {
    Random r = new Random(5);
    int repeats = 0;
    for (int req = 0; req < 3_000; req++) {
      int n = 1 + r.nextInt(1_000);
      long range = r.nextBoolean() ? 2_000_000 : 1L << 62; // dense ids collide often
      long[] ids = new long[n];
      Set<Long> set = new java.util.HashSet<>();
      boolean want = false;
      for (int i = 0; i < n; i++) {
        ids[i] = (long) (r.nextDouble() * range);
        want |= !set.add(ids[i]);
      }
      repeats += want ? 1 : 0;
      assertThat(RequestParser.Seen.repeats(ids)).as("request %d", req).isEqualTo(want);
    }
    assertThat(repeats).as("both outcomes were tried").isBetween(100, 2_900);
  }
}
