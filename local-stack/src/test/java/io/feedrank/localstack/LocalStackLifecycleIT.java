package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * A stack of its own, started and stopped, or failing to start: nothing may be left behind. And a
 * Redis frozen and thawed, as the ranker's stalled-Redis test uses it.
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

  /**
   * A registry closed while its start is on its way, before the server is launched (the stack's
   * failed start, its shutdown hook): the start launches nothing that stays and fails. The server
   * it once launched after the close, which had found nothing to stop, ran until the JVM exited.
   */
  @Test
  void aRegistryClosedBeforeItsStartLaunchesTheServerLeavesNoServerRunning(@TempDir Path dir)
      throws Exception {
    RegistryServer registry = new RegistryServer(dir.resolve("registry"), 0);
    CountDownLatch atLaunch = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    registry.beforeLaunch = () -> holdUntil(atLaunch, closed);
    ExecutorService starter = Executors.newSingleThreadExecutor();
    try {
      Future<?> start =
          starter.submit(
              () -> {
                registry.start(Duration.ofMinutes(2));
                return null;
              });
      assertThat(atLaunch.await(2, TimeUnit.MINUTES)).isTrue();
      registry.close();
      closed.countDown();
      Throwable failure = catchThrowable(() -> start.get(3, TimeUnit.MINUTES));

      assertThat(processesIn(dir)).as("registry servers running").isEmpty();
      assertThat(failure).hasCauseInstanceOf(IOException.class);
      assertThat(failure.getCause()).hasMessageContaining("closed while it started");
      assertThat(Ports.isListening(registry.port())).isFalse();
    } finally {
      closed.countDown();
      starter.shutdownNow();
      registry.close(); // the server a failed check saw running
    }
  }

  /**
   * A stack whose Kafka fails at once, while the registry is still starting: start() stops the
   * registry and Redis once their starts have ended, and only then deletes the directory and
   * throws. It once threw at once, and a server launched afterwards outlived the stack.
   */
  @Test
  void aStackThatFailsToStartEndsTheStartsStillOnTheirWayBeforeItThrows() throws Exception {
    LocalStack stack =
        LocalStack.builder()
            .partitions(1)
            .brokerConfig("num.partitions", "not-a-number") // Kafka refuses its config
            .build();
    Map<String, Integer> ports = stack.ports();
    Path dir = stack.workDir();
    CountDownLatch atLaunch = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    stack.registry().beforeLaunch = () -> holdUntil(atLaunch, release);
    // the stack says when it has closed the registry and waits for the starts to end
    AtomicBoolean waiting = new AtomicBoolean();
    AppenderBase<ILoggingEvent> log =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            if (e.getMessage().startsWith("local-stack: start failed")) {
              waiting.set(true);
            }
          }
        };
    Logger logger = (Logger) LoggerFactory.getLogger(LocalStack.class);
    log.start();
    logger.addAppender(log);
    ExecutorService starter = Executors.newSingleThreadExecutor();
    try {
      Future<LocalStack> start = starter.submit(stack::start);
      assertThat(atLaunch.await(2, TimeUnit.MINUTES)).isTrue();
      await().atMost(Duration.ofMinutes(2)).until(() -> waiting.get() || start.isDone());
      boolean returnedWhileTheRegistryStarted = start.isDone();
      release.countDown();
      Throwable failure = catchThrowable(() -> start.get(3, TimeUnit.MINUTES));

      assertThat(failure).hasCauseInstanceOf(IllegalStateException.class);
      assertThat(failure.getCause()).hasMessageContaining("num.partitions");
      assertThat(returnedWhileTheRegistryStarted)
          .as("start() threw while the registry's start was on its way")
          .isFalse();
      assertThat(processesIn(dir)).as("servers of the stack running").isEmpty();
      assertThat(ports.values())
          .allSatisfy(p -> assertThat(Ports.isListening(p)).as("port " + p).isFalse());
      assertThat(Files.exists(dir)).isFalse();
    } finally {
      release.countDown();
      logger.detachAppender(log);
      starter.shutdownNow();
      stack.close();
    }
  }

  /** Holds the calling thread, once {@code arrived} says it is there, until {@code release}. */
  private static void holdUntil(CountDownLatch arrived, CountDownLatch release) {
    arrived.countDown();
    try {
      release.await(5, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Pids of this JVM's live child processes whose command line names {@code dir}. */
  private static List<Long> processesIn(Path dir) {
    String path = dir.toAbsolutePath().toString();
    return ProcessHandle.current()
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(c -> c.contains(path)).orElse(false))
        .map(ProcessHandle::pid)
        .toList();
  }
}
