package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.feedrank.events.Device;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
  void defaultsContextToNowUnknownDeviceAndAllCandidates() {
    RankRequest r = parse("{\"user_id\": 0, \"item_ids\": [5], \"extra\": {\"x\": [1]}}");
    assertThat(r.atMillis()).isEqualTo(NOW);
    assertThat(r.device()).isEqualTo(Device.UNKNOWN);
    assertThat(r.topK()).isEqualTo(1);
    assertThat(parse("{\"user_id\": 1, \"item_ids\": [5, 6], \"top_k\": 50}").topK()).isEqualTo(2);
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
        "{\"user_id\": 1, \"item_ids\": [4], \"top_k\": 0} | top_k        | must be >= 1, got 0",
        "{\"user_id\": 1, \"item_ids\": [4], \"top_k\": \"3\"} | top_k    | must be an integer",
      })
  void refusesWithTheFieldNamed(String json, String field, String message) {
    BadRequestException e = refused(json);
    assertThat(e).as(json).isNotNull();
    assertThat(e.field()).isEqualTo(field);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void refusesAnEmptyBodyAndMoreThanAThousandCandidates() {
    assertThat(
            catchThrowableOfType(BadRequestException.class, () -> parser.parse(new byte[0]))
                .field())
        .isEqualTo("body");
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
  }
}
