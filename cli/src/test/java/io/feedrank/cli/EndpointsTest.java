package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The announcement a running {@code ./feedrank up} leaves for the other commands, and how the
 * endpoints are resolved from it, the environment, options and config files.
 */
class EndpointsTest {
  @TempDir Path home;

  /** The lock of a running up, for as long as it runs: its announcement is read only meanwhile. */
  private UpLock up;

  @BeforeEach
  void anUpRuns() {
    up = UpLock.acquire(Map.of("FEEDRANK_HOME", home.toString()));
  }

  @AfterEach
  void itStops() {
    up.close();
  }

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
    assertThat(Endpoints.resolve(null, null, null, false, env).bootstrapServers())
        .isEqualTo("127.0.0.1:19092");

    Endpoints.clearUpState(env, second);
    assertThat(Endpoints.stateFile(env)).doesNotExist();
    Endpoints.clearUpState(env, second); // nothing to withdraw: no error
    assertThat(Files.exists(home.resolve(".feedrank"))).isTrue();
  }

  /**
   * A command that reads the announcement while up (re)writes it finds a whole one, the previous or
   * the new: written in place, the file was empty between its truncation and the write, and the
   * command went on as if no up ran. The write is held midway here, its first bytes about to go.
   */
  @Test
  void aCommandReadingWhileUpWritesItsAnnouncementFindsAWholeOne() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    long pid = ProcessHandle.current().pid();
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid);
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    CompletableFuture<Void> write =
        CompletableFuture.runAsync(
            () ->
                Endpoints.writeUpState(
                    env,
                    endpoints("127.0.0.1:19092"),
                    pid,
                    home.resolve("artifacts"),
                    null,
                    out -> new HeldStream(out, writing, resume)));
    try {
      assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(Endpoints.resolve(null, null, null, false, env).bootstrapServers())
          .isEqualTo("127.0.0.1:9092");
    } finally {
      resume.countDown();
    }
    write.get(30, TimeUnit.SECONDS);
    assertThat(Endpoints.resolve(null, null, null, false, env).bootstrapServers())
        .isEqualTo("127.0.0.1:19092");
    assertThat(Endpoints.upArtifactStore(env)).contains(home.resolve("artifacts").toString());
    try (var files = Files.list(home.resolve(".feedrank"))) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder("stack.properties", UpLock.FILE);
    }
  }

  /**
   * A whole platform announces its ranker's URL, whatever port it got (a random one when 8080 is
   * taken), for ./feedrank loadtest, which reads the file itself: loadtest does not depend on cli.
   */
  @Test
  void aPlatformAnnouncesItsRankersUrl() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    long pid = ProcessHandle.current().pid();
    Endpoints.writeUpState(
        env, endpoints("127.0.0.1:9092"), pid, home.resolve("a"), "http://127.0.0.1:41234");
    Properties written = new Properties();
    try (InputStream in = Files.newInputStream(Endpoints.stateFile(env))) {
      written.load(in);
    }
    assertThat(written)
        .containsEntry("ranker.url", "http://127.0.0.1:41234")
        .containsEntry("pid", Long.toString(pid));
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid); // --stack-only: no ranker
    try (InputStream in = Files.newInputStream(Endpoints.stateFile(env))) {
      written.clear();
      written.load(in);
    }
    assertThat(written).doesNotContainKey("ranker.url");
  }

  /**
   * The up's lock, not its pid, says whether the up it announced runs. After a kill -9 (or an exit
   * on OutOfMemoryError, which runs no hook) and a container's restart, pids start again from 1,
   * and the dead up's may be any process's, this command's own JVM included: the stack was found,
   * and commands waited out Kafka's timeouts on it.
   */
  @Test
  void anAnnouncementIsTakenOnlyWhileItsUpHoldsTheLock() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    up.close(); // killed: the file stays, the system dropped the lock
    Endpoints.writeUpState(
        env, endpoints("127.0.0.1:9092"), ProcessHandle.current().pid(), home.resolve("a"), null);
    assertThatThrownBy(() -> Endpoints.resolve(null, null, null, false, env))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("or start the local stack with ./feedrank up");
    assertThat(Endpoints.upArtifactStore(env)).isEmpty();

    // an up in another process, holding its lock: found
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process other =
        new ProcessBuilder(
                java,
                "-cp",
                classpath,
                LockHolder.class.getName(),
                home.resolve(".feedrank").resolve(UpLock.FILE).toString())
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader said =
          new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
      assertThat(CompletableFuture.supplyAsync(() -> readLine(said)).get(60, TimeUnit.SECONDS))
          .isEqualTo("locked");
      Endpoints.writeUpState(
          env, endpoints("127.0.0.1:9092"), other.pid(), home.resolve("a"), null);
      assertThat(Endpoints.resolve(null, null, null, false, env).bootstrapServers())
          .isEqualTo("127.0.0.1:9092");
    } finally {
      other.destroyForcibly();
      other.waitFor(30, TimeUnit.SECONDS);
    }
    assertThatThrownBy(() -> Endpoints.resolve(null, null, null, false, env))
        .hasMessageEndingWith("or start the local stack with ./feedrank up");
  }

  private static String readLine(BufferedReader r) {
    try {
      return r.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stream whose first write waits for {@code resume}, once it said so on {@code writing}. */
  private static final class HeldStream extends FilterOutputStream {
    private final CountDownLatch writing;
    private final CountDownLatch resume;

    HeldStream(OutputStream out, CountDownLatch writing, CountDownLatch resume) {
      super(out);
      this.writing = writing;
      this.resume = resume;
    }

    @Override
    public void write(int b) throws IOException {
      hold();
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      hold();
      out.write(b, off, len);
    }

    private void hold() throws IOException {
      writing.countDown();
      try {
        if (!resume.await(30, TimeUnit.SECONDS)) {
          throw new IOException("the test did not resume the write");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
  }

  /**
   * A drift job does not start beside a whole-platform up on the same Kafka, whose own drift job
   * reads the same topics: every report, alert and retrain command would come out twice. Beside a
   * --stack-only up (no artifact store announced), on another Kafka, or after the up is gone, it
   * starts.
   */
  @Test
  void aDriftJobIsRefusedBesideAPlatformOnTheSameKafka() {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    long alive = ProcessHandle.current().pid();
    Path artifacts = home.resolve("target").resolve("up-1").resolve("artifacts");
    assertThat(DriftCommand.besideAPlatform(env, "127.0.0.1:9092")).isEmpty(); // none announced
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), alive); // --stack-only
    assertThat(DriftCommand.besideAPlatform(env, "127.0.0.1:9092")).isEmpty();
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), alive, artifacts, null);
    assertThat(DriftCommand.besideAPlatform(env, "127.0.0.1:9092"))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .startsWith("the running ./feedrank up (pid " + alive + ") runs its own drift")
                    .contains("double every drift report"));
    assertThat(DriftCommand.besideAPlatform(env, "127.0.0.1:19092")).isEmpty(); // other Kafka
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), 1_000_001, artifacts, null); // gone
    assertThat(DriftCommand.besideAPlatform(env, "127.0.0.1:9092")).isEmpty();
  }

  /**
   * A running platform's artifact store is where runs, train and ranker look by default: a ranker
   * beside it reads no artifact its trainer wrote from another store.
   */
  @Test
  void runsTrainAndRankerUseTheArtifactStoreOfARunningPlatform() {
    Map<String, String> env = Map.of("FEEDRANK_HOME", home.toString());
    String own = home.resolve("target").resolve("artifacts").toString();
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    long pid = ProcessHandle.current().pid();
    Path platform = home.resolve("target").resolve("up-1").resolve("artifacts");
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid, platform, null);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(platform.toAbsolutePath().toString());
    TrainCommand train = new TrainCommand();
    new picocli.CommandLine(train).parseArgs();
    assertThat(train.config(env)).containsEntry("artifact.store", platform.toString());
    RankerCommand ranker = new RankerCommand();
    new picocli.CommandLine(ranker).parseArgs();
    assertThat(ranker.config(env)).containsEntry("artifact.store", platform.toString());
    Endpoints.clearUpState(env, pid);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    // a stack without a platform (--stack-only) announces no store
    Endpoints.writeUpState(env, endpoints("127.0.0.1:9092"), pid);
    assertThat(RunsCommand.defaultStore(env)).isEqualTo(own);
    Endpoints.clearUpState(env, pid);
  }

  /**
   * With a local up running, endpoints given in part are not completed from it: a remote Kafka with
   * the local registry would write records whose schema ids mean nothing to the remote cluster's
   * readers. What is missing is named instead; given nothing, all of up's are taken.
   */
  @Test
  void aRunningUpFillsInNoEndpointWhenAnyIsGiven() {
    long pid = ProcessHandle.current().pid();
    Map<String, String> home = Map.of("FEEDRANK_HOME", this.home.toString());
    Endpoints.writeUpState(home, endpoints("127.0.0.1:9092"), pid);
    try {
      Endpoints all = Endpoints.resolve(null, null, null, true, home);
      assertThat(all.registryUrl()).isEqualTo("http://127.0.0.1:8081");
      assertThat(all.redisUri()).isEqualTo("redis://127.0.0.1:6379");

      assertThatThrownBy(() -> Endpoints.resolve("remote:9092", null, null, false, home))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "no schema registry (--registry-url or FEEDRANK_REGISTRY_URL) given, while Kafka"
                  + " is");
      Map<String, String> env = new HashMap<>(home);
      env.put(Endpoints.ENV_REGISTRY, "http://remote:8081");
      assertThatThrownBy(() -> Endpoints.resolve(null, null, null, false, env))
          .hasMessageStartingWith(
              "no Kafka (--bootstrap-servers or FEEDRANK_BOOTSTRAP_SERVERS) given, while the"
                  + " schema registry is");
      // for a command with Redis, a Redis given is an endpoint given
      assertThatThrownBy(() -> Endpoints.resolve(null, null, "redis://remote:6379", true, home))
          .hasMessageStartingWith(
              "no Kafka (--bootstrap-servers or FEEDRANK_BOOTSTRAP_SERVERS) and no schema"
                  + " registry (--registry-url or FEEDRANK_REGISTRY_URL) given, while Redis is");
      // Kafka and the registry given: Redis is not taken from up either
      assertThat(
              Endpoints.resolve("remote:9092", "http://remote:8081", null, true, home).redisUri())
          .isNull();
      // a command without Redis ignores FEEDRANK_REDIS_URI, and takes up's Kafka and registry
      env.remove(Endpoints.ENV_REGISTRY);
      env.put(Endpoints.ENV_REDIS, "redis://remote:6379");
      assertThat(Endpoints.resolve(null, null, null, false, env).bootstrapServers())
          .isEqualTo("127.0.0.1:9092");
    } finally {
      Endpoints.clearUpState(home, pid);
    }
  }

  /**
   * FEEDRANK_REGISTRY_BASIC_AUTH is for the registry the environment or an option names: not sent
   * to one the config file names, and under the file's own basic.auth.user.info.
   */
  @Test
  void theEnvironmentsRegistryCredentialsGoOnlyToARegistryTheFileDoesNotName() throws Exception {
    Map<String, String> env = new HashMap<>(TestEnvironment.of(home));
    env.put(Endpoints.ENV_REGISTRY_AUTH, "bob:env-secret");
    EndpointOptions none = new EndpointOptions();
    assertThat(ServiceConfig.resolveKafka(null, none, env).values())
        .containsEntry("basic.auth.user.info", "bob:env-secret");

    Path file = home.resolve("registry.properties");
    Files.writeString(file, "schema.registry.url=http://file-registry:8081\n");
    assertThat(ServiceConfig.resolveKafka(file, none, env).values())
        .containsEntry("schema.registry.url", "http://file-registry:8081")
        .doesNotContainKey("basic.auth.user.info");
    EndpointOptions registry = new EndpointOptions();
    registry.registryUrl = "http://option-registry:8081";
    assertThat(ServiceConfig.resolveKafka(file, registry, env).values())
        .containsEntry("schema.registry.url", "http://option-registry:8081")
        .containsEntry("basic.auth.user.info", "bob:env-secret");

    Files.writeString(
        file,
        "schema.registry.url=http://file-registry:8081\nbasic.auth.user.info=alice:file-secret\n");
    assertThat(ServiceConfig.resolveKafka(file, none, env).values())
        .containsEntry("basic.auth.user.info", "alice:file-secret");
    // the file's credentials are not sent to the registry an option puts in place of the file's
    Map<String, String> noAuth = TestEnvironment.of(home);
    assertThat(ServiceConfig.resolveKafka(file, registry, noAuth).values())
        .containsEntry("schema.registry.url", "http://option-registry:8081")
        .doesNotContainKey("basic.auth.user.info");
  }

  /** An endpoint given empty is refused: an unset template variable must not mean "the default". */
  @Test
  void anEndpointGivenEmptyIsRefusedNotSkipped() throws Exception {
    Map<String, String> env = TestEnvironment.of(home);
    EndpointOptions empty = new EndpointOptions();
    empty.bootstrapServers = " ";
    assertThatThrownBy(() -> ServiceConfig.resolveKafka(null, empty, env))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--bootstrap-servers is empty");
    assertThatThrownBy(() -> ServiceConfig.resolve(null, new EndpointOptions(), "", env))
        .hasMessage("--redis-uri is empty");
    Path file = home.resolve("endpoints.properties");
    Files.writeString(file, "schema.registry.url=\n");
    assertThatThrownBy(() -> ServiceConfig.resolveKafka(file, new EndpointOptions(), env))
        .hasMessage("schema.registry.url is empty in " + file);
    // under an option, the file's value is not read, blank or not
    EndpointOptions registry = new EndpointOptions();
    registry.registryUrl = "http://option-registry:8081";
    assertThat(ServiceConfig.resolveKafka(file, registry, env).values())
        .containsEntry("schema.registry.url", "http://option-registry:8081");
    // a KEY=VALUE option's blank value is named as that option's
    assertThatThrownBy(
            () ->
                ServiceConfig.resolve(
                    null, Map.of("redis.uri", ""), new EndpointOptions(), null, env))
        .hasMessage("redis.uri is empty in the redis.uri=VALUE option");
  }

  private static Endpoints endpoints(String kafka) {
    return new Endpoints(kafka, "http://127.0.0.1:8081", null, "redis://127.0.0.1:6379");
  }
}
