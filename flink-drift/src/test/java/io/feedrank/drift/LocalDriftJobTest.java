package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.internals.TransactionalRequestResult;
import org.junit.jupiter.api.Test;

/** What the job is refused to run with in this JVM, before a MiniCluster starts. */
class LocalDriftJobTest {
  private static Map<String, String> config(String deliveryGuarantee) {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:1");
    p.put("schema.registry.url", "http://127.0.0.1:1/apis/ccompat/v7");
    p.put("delivery.guarantee", deliveryGuarantee);
    return p;
  }

  /**
   * The Kafka connector's transactional writer (5.0.0-2.2) calls {@code
   * TransactionalRequestResult.await()}, which the kafka-clients of this class path does not have
   * (README, Drift: Delivery): exactly once failed at the job's first checkpoint, so it is refused
   * at the start. Should a later kafka-clients have the method again, the first assertion fails and
   * the refusal can go.
   */
  @Test
  void exactlyOnceIsRefusedAtTheStartNamingTheKey() {
    assertThatThrownBy(() -> TransactionalRequestResult.class.getMethod("await"))
        .isInstanceOf(NoSuchMethodException.class);

    DriftConfig exactlyOnce = DriftConfig.from(config("exactly-once"));
    assertThatThrownBy(() -> LocalDriftJob.start(LocalFlink.loopback(), exactlyOnce, "t").close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "delivery.guarantee=exactly-once needs the job jar on a Flink cluster")
        .hasMessageContaining("at-least-once");
    DriftConfig atLeastOnce = DriftConfig.from(config("at-least-once"));
    assertThat(LocalDriftJob.inThisJvm(atLeastOnce)).isSameAs(atLeastOnce);
  }
}
