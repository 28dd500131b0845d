package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the ranker benchmark's report says about its own figures. */
class RankerBenchmarkReportTest {

  /**
   * A p999 over fewer than 10,000 requests is one of the ten highest latencies: named in a note,
   * with its count, beside the figure DESIGN asks for.
   */
  @Test
  void namesTheP999FiguresOfFewerThanTenThousandRequests() {
    Map<String, Double> f = new LinkedHashMap<>();
    f.put("c100_p999_ms", 12.0);
    f.put("c100_requests", 31_000.0);
    f.put("c1000_p999_ms", 80.0);
    f.put("c1000_requests", 2_400.0);
    f.put("c1000_floor_p99_ms", 9.0);

    assertThat(RankerBenchmark.thinP999(2, f))
        .containsExactly("run 2: c1000_p999_ms of 2400 requests");
  }
}
