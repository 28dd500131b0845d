package io.feedrank.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A closed Redis starts no server: the stack's shutdown hook may close it before the start the
 * stack's own start runs on another thread has begun (during {@code up --stack-only}'s start), and
 * that start then launched a {@code redis-server} into the directory the close deleted, which ran
 * until this JVM exited.
 */
class RedisInstanceTest {
  @Test
  void aStartAfterCloseIsRefusedAndLaunchesNoServer(@TempDir Path dir) {
    RedisInstance redis = new RedisInstance(dir.resolve("redis"), 0);
    redis.close();
    try {
      assertThatThrownBy(() -> redis.start(Duration.ofSeconds(30)))
          .isInstanceOf(IOException.class)
          .hasMessage("Redis on port " + redis.port() + " is closed: not started");
      assertThat(redis.pid()).as("the redis-server process").isEqualTo(-1);
      assertThat(dir.resolve("redis")).as("its directory").doesNotExist();
    } finally {
      redis.stop(); // what a start that went on launched
    }
  }
}
