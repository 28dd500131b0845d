package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A stack of its own, started and stopped: nothing may be left behind. And a Redis frozen and
 * thawed, as the ranker's stalled-Redis test uses it.
 */
class LocalStackLifecycleIT {

  @Test
  void stopsCleanlyAndLeavesNoProcessPortOrDirectoryBehind() throws Exception {
    // in a directory named relative to the working one, as ./feedrank up --dir target/x names it
    LocalStack stack =
        LocalStack.builder()
            .workDir(Path.of("target", "lifecycle-it-" + System.nanoTime()))
            .partitions(1)
            .build()
            .start();
    try {
      stopsCleanly(stack);
    } finally {
      stack.close(); // idempotent: after a failed check too
    }
  }

  private static void stopsCleanly(LocalStack stack) throws Exception {
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

  @Test
  void aFrozenRedisLeavesCommandsWaitingAnswersThemWhenThawedAndStopsWhileFrozen(@TempDir Path dir)
      throws Exception {
    RedisInstance redis = new RedisInstance(dir.resolve("redis"), 0);
    try {
      freezeAndThaw(redis);
    } finally {
      redis.stop(); // after a failed check too, frozen or not
    }
  }

  private static void freezeAndThaw(RedisInstance redis) throws Exception {
    redis.start(Duration.ofSeconds(30));
    ExecutorService client = Executors.newSingleThreadExecutor();
    try (Jedis j = redis.client(10_000)) {
      j.set("k", "v");
      redis.freeze();
      Future<String> get = client.submit(() -> j.get("k"));
      // no answer while frozen (the connection is open: the command just waits)
      assertThatThrownBy(() -> get.get(500, TimeUnit.MILLISECONDS))
          .isInstanceOf(TimeoutException.class);
      redis.thaw();
      assertThat(get.get(10, TimeUnit.SECONDS)).isEqualTo("v"); // and the data is still there
    } finally {
      client.shutdownNow();
    }
    long pid = redis.pid();
    int port = redis.port();
    redis.freeze();
    redis.stop();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
    assertThat(Ports.isListening(port)).isFalse();
  }
}
