package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.internals.TransactionalRequestResult;
import org.junit.jupiter.api.Test;

/**
 * What the job is refused to run with in this JVM, before a MiniCluster starts, and what a start
 * that fails leaves behind.
 */
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

  /**
   * A start that fails before its MiniCluster runs, here in the job's build (a {@code kafka.*}
   * value deserializer that is not one, refused by the Kafka source's builder), deletes the REST
   * upload directory it made: the directory was made before the build, the stream graph and the
   * cluster, outside the try that deletes it, and a failure in any of them left it.
   */
  @Test
  void aStartWhoseBuildFailsLeavesNoUploadDirectory() throws Exception {
    Map<String, String> p = config("at-least-once");
    p.put("kafka.value.deserializer", "java.lang.String");
    DriftConfig unbuildable = DriftConfig.from(p);
    List<String> before = uploadDirs();

    assertThatThrownBy(() -> LocalDriftJob.start(LocalFlink.loopback(), unbuildable, "t").close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.String is not a subclass of");
    assertThat(uploadDirs()).as("feedrank-drift-web-* in java.io.tmpdir").isEqualTo(before);
  }

  private static List<String> uploadDirs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(x -> x.getFileName().toString())
          .filter(n -> n.startsWith("feedrank-drift-web-"))
          .sorted()
          .toList();
    }
  }
}
