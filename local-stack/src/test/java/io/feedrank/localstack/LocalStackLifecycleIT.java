package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/** A stack of its own, started and stopped: nothing may be left behind. */
class LocalStackLifecycleIT {

  @Test
  void stopsCleanlyAndLeavesNoProcessPortOrDirectoryBehind() throws Exception {
    LocalStack stack = LocalStack.builder().partitions(1).build().start();
    List<Long> pids = stack.childPids();
    Map<String, Integer> ports = stack.ports();
    Path dir = stack.workDir();
    assertThat(pids).hasSize(2).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).isPresent());
    assertThat(ports.values())
        .allSatisfy(p -> assertThat(Ports.isListening(p)).as("port " + p).isTrue());
    assertThat(stack.startupTime()).isPositive();

    // Redis can be taken away and brought back on the same port (for fallback tests)
    int redisPort = stack.redis().port();
    stack.redis().stop();
    assertThat(Ports.isListening(redisPort)).isFalse();
    stack.redis().start(Duration.ofSeconds(30));
    try (Jedis j = new Jedis(URI.create(stack.redisUri()))) {
      assertThat(j.ping()).isEqualTo("PONG");
    }
    List<Long> pidsAfterRestart = stack.childPids();

    stack.close();

    for (long pid : List.of(pids.get(0), pids.get(1), pidsAfterRestart.get(0))) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
          .as("pid " + pid)
          .isNotEqualTo(Optional.of(true));
    }
    assertThat(ports.values())
        .allSatisfy(p -> assertThat(Ports.isListening(p)).as("port " + p).isFalse());
    assertThat(Files.exists(dir)).isFalse();
    stack.close(); // idempotent
  }
}
