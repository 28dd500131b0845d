package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/**
 * Every stateful operator of the job has a fixed uid, so a savepoint taken by one version of the
 * job restores into the next even when operators are added (auto-generated ids follow the graph's
 * shape: adding the online-ctr sink would have changed the ids of the CTR windows before it).
 */
class OperatorUidsTest {
  @Test
  void sourcesStatefulOperatorsAndSinksHaveFixedUniqueUids() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(
        env,
        DriftConfig.from(
            Map.of(
                "bootstrap.servers", "127.0.0.1:1",
                "schema.registry.url", "http://127.0.0.1:1")));
    int parallelism = env.getParallelism();
    var graph = env.getStreamGraph();
    List<String> uids =
        graph.getStreamNodes().stream()
            .map(StreamNode::getTransformationUID)
            .filter(Objects::nonNull)
            .toList();
    assertThat(uids).doesNotHaveDuplicates();
    assertThat(uids)
        .contains(
            "source-training-examples",
            "source-ranking-logs",
            "source-model-registry",
            "source-ranking-logs-served",
            "source-interactions",
            "drift-windows",
            "drift-evaluation",
            "drift-decisions",
            "routine-commands",
            "online-ctr-attribution",
            "online-ctr-late-responses",
            "online-ctr-late-impressions",
            "online-ctr-windows",
            "ctr-drop-commands",
            "drift-gauges",
            "online-ctr-gauges");
    // the gauges run in one subtask, which sees every key (their expiry compares keys' windows)
    assertThat(parallelism).isGreaterThan(1);
    for (String gauges : List.of("drift-gauges", "online-ctr-gauges")) {
      assertThat(
              graph.getStreamNodes().stream()
                  .filter(n -> gauges.equals(n.getTransformationUID()))
                  .findFirst()
                  .orElseThrow()
                  .getParallelism())
          .as(gauges)
          .isEqualTo(1);
    }
    for (String sink : List.of("drift-reports", "retrain-commands", "alerts", "online-ctr")) {
      assertThat(uids).anyMatch(u -> u.startsWith("sink-" + sink));
    }
  }
}
