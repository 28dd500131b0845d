package io.feedrank.ranker.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.ranker.RankResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The rank response body, read back by a plain parser: every score is the float that was ranked.
 */
class ResponseBytesTest {
  private static final ObjectMapper PLAIN = new ObjectMapper();

  @Test
  void everyScoreReadsBackAsTheSameFloat() throws Exception {
    Random r = new Random(11);
    int n = 1_000;
    long[] ids = new long[n];
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 1_000_000_007L * i;
      // sigmoid outputs, logits, tiny and huge magnitudes, any bit pattern that is a finite float
      scores[i] =
          switch (i % 4) {
            case 0 -> (float) (1 / (1 + Math.exp(-r.nextGaussian() * 4)));
            case 1 -> (float) (r.nextGaussian() * 10);
            case 2 -> (float) Math.scalb(r.nextDouble(), r.nextInt(200) - 140);
            default -> finiteFloat(r);
          };
    }
    scores[0] = 0f;
    scores[1] = Float.MIN_VALUE;
    scores[2] = Float.MAX_VALUE;
    scores[3] = 1.0E-7f;
    RankResult result =
        new RankResult("r", 5, "m", "v", "production", ids, scores, 0.4567, "no_model");
    byte[] body = HttpCommon.responseBytes(result);

    List<String> texts = new ArrayList<>();
    try (JsonParser p = PLAIN.getFactory().createParser(body)) {
      for (JsonToken t; (t = p.nextToken()) != null; ) {
        if (t == JsonToken.FIELD_NAME && p.currentName().equals("score")) {
          p.nextToken();
          texts.add(p.getText());
        }
      }
    }
    assertThat(texts).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(Float.parseFloat(texts.get(i)))
          .as("score %d written as %s", i, texts.get(i))
          .isEqualTo(scores[i]);
    }
    JsonNode j = PLAIN.readTree(body);
    assertThat(j.get("predictions").get(n - 1).get("item_id").asLong()).isEqualTo(ids[n - 1]);
    assertThat(j.get("predictions").get(n - 1).get("rank").asInt()).isEqualTo(n);
    assertThat(j.get("ranked_items").get(7).asLong()).isEqualTo(ids[7]);
    assertThat(j.get("latency_ms").asDouble()).isEqualTo(0.457);
    assertThat(j.get("fallback").asBoolean()).isTrue();
    assertThat(j.get("fallback_reason").asText()).isEqualTo("no_model");
  }

  private static float finiteFloat(Random r) {
    while (true) {
      float f = Float.intBitsToFloat(r.nextInt());
      if (Float.isFinite(f)) {
        return f;
      }
    }
  }
}
