package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that fails after the Redis writer and the Kafka Streams client exist (here: the metrics
 * port is taken) closes them again: in the one JVM of {@code ./feedrank up} or a test run, their
 * threads would stay behind.
 */
class FeaturesAppStartTest {
  @TempDir(factory = StateDirFactory.class)
  Path dir;

  @Test
  void aStartThatFailsLeavesNoThreadBehind() throws Exception {
    List<String> before = threads();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Map<String, String> p = new HashMap<>();
      p.put("bootstrap.servers", "127.0.0.1:9");
      p.put("schema.registry.url", "http://127.0.0.1:9/apis/ccompat/v7");
      p.put("redis.uri", "redis://127.0.0.1:9");
      p.put("state.dir", dir.toString());
      p.put("metrics.host", "127.0.0.1");
      p.put("metrics.port", Integer.toString(taken.getLocalPort()));
      assertThatThrownBy(() -> Main.start(FeaturesConfig.from(p)))
          .isInstanceOf(java.io.IOException.class);
    }
    List<String> after = threads();
    after.removeAll(before);
    assertThat(after)
        .noneMatch(n -> n.contains("features-redis-writer"))
        .noneMatch(n -> n.contains("micrometer-kafka"))
        .noneMatch(n -> n.contains("StreamThread"));
  }

  private static List<String> threads() {
    return new java.util.ArrayList<>(
        Thread.getAllStackTraces().keySet().stream()
            .filter(Thread::isAlive)
            .map(Thread::getName)
            .toList());
  }
}
