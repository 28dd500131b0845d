package io.feedrank.localstack;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.embedded.core.ExecutableProvider;

/**
 * A real {@code redis-server} child process on 127.0.0.1: the one on PATH when there is one (or
 * {@code FEEDRANK_REDIS_SERVER}), else the binary shipped in {@code
 * com.github.codemonstur:embedded-redis}. Never persists ({@code save ""}, {@code appendonly no})
 * and works in its own directory. Can be stopped and started again on the same port, so tests can
 * take Redis away from a running service, or frozen and thawed, so they can make it stall.
 */
public final class RedisInstance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisInstance.class);
  static final String BINARY_ENV = "FEEDRANK_REDIS_SERVER";

  /** How long a start waits for the binary it has just extracted to be free to run. */
  private static final Duration BUSY_PATIENCE = Duration.ofSeconds(5);

  private final Path dir;
  private final int port;
  private final List<String> extraArgs;
  private Path binary;
  private Process process;
  private ChildReaper reaper;
  private boolean frozen;

  /**
   * Set by {@link #close()}, under this object's lock; a start after it launches nothing. The
   * stack's shutdown hook could close this instance before the start the stack's own start runs on
   * another thread had begun, and that start then launched a {@code redis-server} into the
   * directory the close deleted, which ran until this JVM exited. A close during a start waits for
   * it (both hold the lock) and stops what it launched.
   */
  private boolean closed;

  /**
   * A server of its own below {@code dir} on {@code port} (0: a free one), not started: for a test
   * that needs Redis apart from the stack's, such as two to fail over between.
   */
  public RedisInstance(Path dir, int port) {
    this(dir, port, List.of());
  }

  /** A server started with {@code extraArgs} after the standard ones (cluster mode, say). */
  RedisInstance(Path dir, int port, List<String> extraArgs) {
    this.dir = dir;
    this.port = Ports.orFree(port);
    this.extraArgs = List.copyOf(extraArgs);
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:port}. */
  public String uri() {
    return "redis://" + Ports.LOOPBACK + ":" + port;
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process == null ? -1 : process.pid();
  }

  /**
   * Starts the server (again, after {@link #stop()}) and waits until it answers PING.
   *
   * @throws IOException also when this instance is closed: nothing is started then
   */
  public synchronized void start(Duration timeout) throws IOException {
    if (closed) {
      throw new IOException("Redis on port " + port + " is closed: not started");
    }
    if (isRunning()) {
      return;
    }
    Files.createDirectories(dir);
    if (binary == null) {
      binary = locateBinary(dir);
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                binary.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                Ports.LOOPBACK,
                "--protected-mode",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString(),
                "--daemonize",
                "no"));
    cmd.addAll(extraArgs);
    process =
        ChildProcesses.start(
            new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(
                    ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())),
            BUSY_PATIENCE);
    reaper = ChildReaper.watch(process);
    awaitPing(timeout);
    log.info("local-stack: Redis ready at {} ({})", uri(), binary);
  }

  private void awaitPing(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "redis-server exited with "
                + process.exitValue()
                + "; see "
                + dir.resolve("redis.log"));
      }
      try (Jedis jedis = client(500)) {
        if ("PONG".equals(jedis.ping())) {
          return;
        }
      } catch (RuntimeException e) {
        last = new IOException(e);
      }
      try {
        process.waitFor(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for Redis", e);
      }
    }
    stop();
    throw new IOException("Redis on port " + port + " not ready within " + timeout, last);
  }

  Jedis client(int timeoutMillis) {
    return new Jedis(
        new HostAndPort(Ports.LOOPBACK, port),
        DefaultJedisClientConfig.builder()
            .timeoutMillis(timeoutMillis)
            .serverDefaultProtocol()
            .build());
  }

  /**
   * Freezes the server (SIGSTOP) until {@link #thaw()}: its connections stay open and accept
   * commands, which wait unanswered, as with a Redis that stalls (a fork of a large dataset, a
   * saturated host) rather than one that is gone. Its data is kept.
   */
  public synchronized void freeze() throws IOException {
    signal("STOP");
    frozen = true;
  }

  /**
   * Lets a {@link #freeze() frozen} server run again (SIGCONT); the waiting commands are answered.
   */
  public synchronized void thaw() throws IOException {
    signal("CONT");
    frozen = false;
  }

  private void signal(String name) throws IOException {
    if (!isRunning()) {
      throw new IllegalStateException("Redis on port " + port + " is not running");
    }
    // the shell's kill builtin: Java signals only TERM and KILL, and /bin/kill may be missing
    Process kill =
        new ProcessBuilder("/bin/sh", "-c", "kill -" + name + " " + process.pid())
            .redirectErrorStream(true)
            .start();
    try {
      String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IOException("kill -" + name + " of redis-server failed: " + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while signalling redis-server", e);
    }
  }

  /** Stops the server without saving. Data is lost, as when a Redis node dies. */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    if (frozen) {
      try {
        thaw(); // so that it can answer SHUTDOWN and act on SIGTERM
      } catch (IOException | RuntimeException e) {
        // SIGKILL below ends a stopped process too
      }
    }
    try (Jedis jedis = client(1000)) {
      jedis.shutdown(); // SHUTDOWN; nothing to save with save "" and no AOF
    } catch (RuntimeException e) {
      // already gone, or refuses: fall through to signals
    }
    ChildProcesses.stop(process, "redis-server", 10);
    process = null;
    if (reaper != null) {
      reaper.close();
      reaper = null;
    }
  }

  /** Stops the server for good: a later {@link #start} is refused. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    stop();
  }

  private static Path locateBinary(Path dir) throws IOException {
    String env = System.getenv(BINARY_ENV);
    if (env != null && !env.isBlank()) {
      return Paths.get(env);
    }
    Optional<Path> onPath = onPath("redis-server");
    if (onPath.isPresent()) {
      return onPath.get();
    }
    Path binDir = Files.createDirectories(dir.resolve("bin"));
    File extracted = ExecutableProvider.newJarResourceProvider(binDir::toFile).get();
    if (!extracted.canExecute() && !extracted.setExecutable(true)) {
      throw new IOException("cannot make " + extracted + " executable");
    }
    return extracted.toPath();
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String d : path.split(File.pathSeparator)) {
      Path p = Paths.get(d, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
