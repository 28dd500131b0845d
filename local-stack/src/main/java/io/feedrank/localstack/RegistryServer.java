package io.feedrank.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real Apicurio Registry 3.0.9 server, run as a child process on the current Java with
 * in-memory storage, HTTP and management listeners on 127.0.0.1. Its Confluent-compatible API is at
 * {@code /apis/ccompat/v7}. Output goes to {@code registry.log} in the stack's directory.
 */
final class RegistryServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RegistryServer.class);

  /** Overrides where the unpacked server distribution is (a directory with the runner jar). */
  static final String HOME_PROPERTY = "feedrank.apicurio.home";

  static final String HOME_ENV = "FEEDRANK_APICURIO_HOME";

  private final Path workDir;
  private final int port;
  private volatile Process process;
  private ChildReaper reaper;

  /**
   * Set by {@link #close()}, under this object's lock; a start that launches the server after the
   * close stops it at once. A close while a start was still on its way (the stack's failed start,
   * its shutdown hook) found no process to stop, and the one launched afterwards, a JVM of up to
   * 512 MB holding the registry's port, ran until this JVM exited.
   */
  private boolean closed;

  /**
   * Runs on the starting thread just before the server is launched; a test holds it there to close
   * the server in between. Does nothing otherwise.
   */
  volatile Runnable beforeLaunch = () -> {};

  RegistryServer(Path workDir, int port) {
    this.workDir = workDir;
    this.port = Ports.orFree(port);
  }

  int port() {
    return port;
  }

  /** Base URL of the Confluent-compatible API. */
  String ccompatUrl() {
    return "http://" + Ports.LOOPBACK + ":" + port + "/apis/ccompat/v7";
  }

  long pid() {
    return process == null ? -1 : process.pid();
  }

  void start(Duration timeout) throws IOException, InterruptedException {
    Path home = home();
    Path runner = runnerJar(home);
    Path tmp = Files.createDirectories(workDir.resolve("registry-tmp"));
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "-Xms64m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.io.tmpdir=" + tmp,
            "-Dquarkus.http.host=" + Ports.LOOPBACK,
            "-Dquarkus.http.port=" + port,
            "-Dquarkus.management.host=" + Ports.LOOPBACK,
            "-Dquarkus.management.port=0",
            "-Dquarkus.log.console.color=false",
            "-Dapicurio.storage.kind=sql",
            "-Dapicurio.storage.sql.kind=h2",
            "-jar",
            runner.toString()));
    Path logFile = workDir.resolve("registry.log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(logFile.toFile());
    pb.environment().put("TMPDIR", tmp.toString());
    beforeLaunch.run();
    Process started = pb.start();
    synchronized (this) {
      if (closed) {
        ChildProcesses.stop(started, "Apicurio Registry", 15);
        throw new IOException("Apicurio Registry was closed while it started; stopped it");
      }
      process = started;
      reaper = ChildReaper.watch(started);
    }
    awaitReady(timeout, logFile);
    log.info("local-stack: Apicurio Registry ready at {} (pid {})", ccompatUrl(), process.pid());
  }

  private void awaitReady(Duration timeout, Path logFile) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest probe =
        HttpRequest.newBuilder(URI.create(ccompatUrl() + "/subjects"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "Apicurio Registry exited with "
                + process.exitValue()
                + " during start-up; see "
                + logFile);
      }
      try {
        if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      process.waitFor(200, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    close();
    throw new IOException("Apicurio Registry not ready within " + timeout + "; see " + logFile);
  }

  /**
   * Where the unpacked distribution is: property, environment, else where the build unpacked it.
   */
  static Path home() throws IOException {
    String override = System.getProperty(HOME_PROPERTY, System.getenv(HOME_ENV));
    if (override != null && !override.isBlank()) {
      return Paths.get(override);
    }
    Properties built = new Properties();
    try (InputStream in =
        RegistryServer.class.getResourceAsStream("/feedrank-local-stack.properties")) {
      if (in == null) {
        throw new IOException("feedrank-local-stack.properties is missing from the classpath");
      }
      built.load(in);
    }
    Path home = Paths.get(built.getProperty("apicurio.home"));
    if (!Files.isDirectory(home)) {
      throw new IOException(
          "Apicurio Registry distribution not found at "
              + home
              + ": build local-stack (./mvnw -pl local-stack package) or set "
              + HOME_ENV
              + " to an unpacked apicurio-registry-app "
              + built.getProperty("apicurio.version")
              + " distribution");
    }
    return home;
  }

  private static Path runnerJar(Path home) throws IOException {
    try (var files = Files.list(home)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith("-runner.jar"))
          .findFirst()
          .orElseThrow(() -> new IOException("no *-runner.jar in " + home));
    }
  }

  /** Stops the server, and one that a start still on its way launches later. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    ChildProcesses.stop(process, "Apicurio Registry", 15);
    if (reaper != null) {
      reaper.close();
      reaper = null;
    }
  }
}
