package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The announcement a running {@code ./feedrank up} leaves for the other commands. */
class EndpointsTest {
  @TempDir Path home;

  /**
   * A second {@code up} replaces the first one's announcement; the first one's stop must not
   * withdraw it, or the other commands lose the stack that is still running.
   */
  @Test
  void anUpWithdrawsOnlyItsOwnAnnouncement() {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    long first = 1_000_001;
    long second = ProcessHandle.current().pid(); // alive, so the announcement is read
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), first);
    Endpoints.writeUpState(env, endpoints("127.0.0.1:19092"), second);

    Endpoints.clearUpState(env, first);
    assertThat(Endpoints.stateFile(env)).exists();
    assertThat(Endpoints.resolve(null, null, env).bootstrapServers()).isEqualTo("127.0.0.1:19092");

    Endpoints.clearUpState(env, second);
    assertThat(Endpoints.stateFile(env)).doesNotExist();
    Endpoints.clearUpState(env, second); // nothing to withdraw: no error
    assertThat(Files.exists(home.resolve(".feedrank"))).isTrue();
  }

  /** A running platform's artifact store is where runs and train look by default. */
  @Test
  void runsAndTrainUseTheArtifactStoreOfARunningPlatform() {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    String own = home.resolve("target").resolve("artifacts").toString();
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    long pid = ProcessHandle.current().pid();
    Path platform = home.resolve("target").resolve("up-1").resolve("artifacts");
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid, platform);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(platform.toAbsolutePath().toString());
    TrainCommand train = new TrainCommand();
    new picocli.CommandLine(train).parseArgs();
    assertThat(train.config(env)).containsEntry("artifact.store", platform.toString());
    Endpoints.clearUpState(env, pid);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    // a stack without a platform (--stack-only) announces no store
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    Endpoints.clearUpState(env, pid);
  }

  private static Endpoints endpoints(String kafka) {
    return new Endpoints(kafka, "http://127.0.0.1:8081", null, "redis://127.0.0.1:6379");
  }
}
