package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RankerConfigTest {

  private static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("redis.uri", "redis://127.0.0.1:6379");
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    return p;
  }

  @Test
  void theModelCallGateIsOffUnlessConfiguredAndRefusesANegativeLimitByName() {
    assertThat(RankerConfig.from(required()).onnxMaxConcurrentRuns()).isZero();

    Map<String, String> two = required();
    two.put("onnx.max.concurrent.runs", "2");
    RankerConfig c = RankerConfig.from(two);
    assertThat(c.onnxMaxConcurrentRuns()).isEqualTo(2);
    assertThat(c.publicView()).containsEntry("onnx_max_concurrent_runs", 2);

    Map<String, String> negative = required();
    negative.put("onnx.max.concurrent.runs", "-1");
    assertThatThrownBy(() -> RankerConfig.from(negative))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("onnx.max.concurrent.runs");
  }
}
