package io.feedrank.streams.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.DeadLetter;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The dead letter's schema names every code the app writes, and no other. */
class ErrorCodeTest {
  @Test
  void theDeadLettersSchemaListsEveryCode() {
    String doc = DeadLetter.getClassSchema().getField("error_code").doc();
    Matcher m = Pattern.compile("\\b[A-Z][A-Z_]{3,}\\b").matcher(doc);
    java.util.Set<String> named = new java.util.HashSet<>();
    while (m.find()) {
      named.add(m.group());
    }
    assertThat(named)
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(ErrorCode.values()).map(Enum::name).toList());
  }
}
