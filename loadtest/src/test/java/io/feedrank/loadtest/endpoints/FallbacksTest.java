package io.feedrank.loadtest.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A run's count of its rank requests and of those answered with a fallback, by reason. */
class FallbacksTest {
  @Test
  void countsFallbacksByReasonAsAShareOfEveryRequest() {
    Fallbacks f = new Fallbacks();
    assertThat(f.summary().percent()).isZero();
    assertThat(f.summary()).hasToString("no fallback among 0 rank requests");
    for (String reason :
        new String[] {
          null, "redis_unavailable", null, "no_model", null, "redis_unavailable", null, null
        }) {
      f.record(reason);
    }
    Fallbacks.Summary s = f.summary();
    assertThat(s.requests()).isEqualTo(8);
    assertThat(s.fallbacks()).isEqualTo(3);
    assertThat(s.percent()).isEqualTo(37.5); // 3 / 8
    assertThat(s)
        .hasToString(
            "3 of 8 rank requests (37.5%) answered with a fallback, not the model's ranking:"
                + " no_model 1, redis_unavailable 2");
    f.reset();
    assertThat(f.summary()).hasToString("no fallback among 0 rank requests");
  }
}
