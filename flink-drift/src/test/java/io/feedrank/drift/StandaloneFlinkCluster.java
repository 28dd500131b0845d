package io.feedrank.drift;

import io.feedrank.localstack.ChildProcesses;
import io.feedrank.localstack.ChildReaper;
import io.feedrank.localstack.Ports;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A Flink session cluster the way a deployment runs one: a JobManager ({@code
 * StandaloneSessionClusterEntrypoint}) and a TaskManager ({@code TaskManagerRunner}), each in its
 * own JVM, configured by a {@code config.yaml}, with Flink's jars and none of feedrank's (nor
 * Kafka's, Avro's or the Kafka connector's) on their classpath — a job brings those in its own jar,
 * loaded by Flink's user-code class loader. Jobs are submitted with Flink's own command line
 * ({@code CliFrontend}, what {@code flink run} starts) in a third JVM. Everything binds to
 * 127.0.0.1 on free ports; {@link #close()} stops every process, and a watcher stops them if this
 * JVM dies.
 *
 * <p>The Flink distribution tarball is not on Maven Central; its jars are, and they are this
 * module's test classpath, which is where the cluster's classpath is taken from.
 */
final class StandaloneFlinkCluster implements AutoCloseable {
  private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
  private static final Pattern STATE = Pattern.compile("\"state\"\\s*:\\s*\"([A-Z_]+)\"");
  private static final Pattern NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]*)\"");

  /**
   * Not what a Flink distribution's lib/ holds: the job jar carries these. (commons-math3 stays:
   * flink-runtime's histograms use it, and flink-dist bundles it.)
   */
  private static final List<String> NOT_FLINK =
      List.of(
          "/io/feedrank/",
          "/target/classes",
          "/target/test-classes",
          "/org/apache/kafka/",
          "/flink-connector-kafka",
          "/org/apache/avro/",
          "/datasketches",
          "/onnxruntime",
          "/tribuo",
          "/redis/clients/",
          "/junit",
          "/assertj",
          "/awaitility");

  private static final List<String> JAVA_17_OPENS =
      List.of(
          "java.lang",
          "java.lang.reflect",
          "java.io",
          "java.net",
          "java.nio",
          "sun.nio.ch",
          "java.text",
          "java.time",
          "java.util",
          "java.util.concurrent",
          "java.util.concurrent.atomic",
          "java.util.concurrent.locks");

  private final Path dir;
  private final Path conf;
  private final int restPort;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<Process> processes = new ArrayList<>();
  private final List<ChildReaper> reapers = new ArrayList<>();
  private Process taskManager;

  private StandaloneFlinkCluster(Path dir) throws IOException {
    this.dir = dir;
    this.conf = Files.createDirectories(dir.resolve("conf"));
    this.restPort = Ports.freePort();
  }

  /**
   * Starts a JobManager and a TaskManager with {@code slots} slots; ready when it registered. The
   * JobManager's ports are chosen here and bound by its JVM a second later; if one was taken in
   * between (a {@code BindException} in its log), the cluster starts again on other ports, up to
   * three times.
   */
  static StandaloneFlinkCluster start(Path dir, int slots, Duration timeout)
      throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(dir, slots, timeout);
      } catch (IOException e) {
        if (attempt == 3 || !String.valueOf(e.getMessage()).contains("BindException")) {
          throw e;
        }
      }
    }
  }

  private static StandaloneFlinkCluster startOnce(Path dir, int slots, Duration timeout)
      throws IOException, InterruptedException {
    StandaloneFlinkCluster c = new StandaloneFlinkCluster(dir);
    try {
      c.writeConfiguration(slots);
      c.launch(
          "jobmanager",
          "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
          "-Xmx384m",
          List.of("--configDir", c.conf.toString(), "--executionMode", "cluster"));
      c.taskManager = c.launchTaskManager("taskmanager");
      c.awaitSlots(slots, timeout);
      return c;
    } catch (IOException | InterruptedException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  int restPort() {
    return restPort;
  }

  private Process launchTaskManager(String name) throws IOException {
    return launch(
        name,
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        "-Xmx384m",
        List.of("--configDir", conf.toString()));
  }

  /** SIGKILL of the TaskManager, as a machine failure: no clean shutdown of anything. */
  void killTaskManager() throws InterruptedException {
    taskManager.destroyForcibly();
    taskManager.waitFor(10, TimeUnit.SECONDS);
  }

  /** Starts a fresh TaskManager (log {@code name}.log) in place of the killed one. */
  void replaceTaskManager(String name) throws IOException {
    taskManager = launchTaskManager(name);
  }

  /** Completed checkpoints of the job. */
  long completedCheckpoints(String jobId) throws InterruptedException {
    Matcher m =
        Pattern.compile("\"completed\"\\s*:\\s*(\\d+)")
            .matcher(get("/jobs/" + jobId + "/checkpoints").orElse(""));
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** Failures in the job's exception history (what made it restart). */
  long failures(String jobId) throws InterruptedException {
    Matcher m =
        Pattern.compile("\"exceptionName\"")
            .matcher(get("/jobs/" + jobId + "/exceptions").orElse(""));
    long n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** Cancels the job (an unbounded one does not end by itself). */
  void cancel(String jobId) throws IOException, InterruptedException {
    HttpRequest r =
        HttpRequest.newBuilder(
                URI.create(
                    "http://"
                        + Ports.LOOPBACK
                        + ":"
                        + restPort
                        + "/jobs/"
                        + jobId
                        + "?mode=cancel"))
            .method("PATCH", HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(5))
            .build();
    http.send(r, HttpResponse.BodyHandlers.discarding());
  }

  private void writeConfiguration(int slots) throws IOException {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    String yaml =
        String.join(
            "\n",
            "jobmanager.rpc.address: " + Ports.LOOPBACK,
            "jobmanager.rpc.port: " + Ports.freePort(),
            "jobmanager.bind-host: " + Ports.LOOPBACK,
            "jobmanager.memory.process.size: 768m",
            "taskmanager.host: " + Ports.LOOPBACK,
            "taskmanager.bind-host: " + Ports.LOOPBACK,
            "taskmanager.rpc.port: \"0\"",
            "taskmanager.data.port: 0",
            "taskmanager.numberOfTaskSlots: " + slots,
            // what bin/taskmanager.sh derives from the process size and passes on the command
            // line: every memory component, matched by the JVM's -Xmx (framework + task heap)
            "taskmanager.cpu.cores: 2",
            "taskmanager.memory.framework.heap.size: 128m",
            "taskmanager.memory.task.heap.size: 256m",
            "taskmanager.memory.framework.off-heap.size: 128m",
            "taskmanager.memory.task.off-heap.size: 0m",
            "taskmanager.memory.network.min: 32m",
            "taskmanager.memory.network.max: 32m",
            "taskmanager.memory.managed.size: 32m",
            "taskmanager.memory.jvm-metaspace.size: 256m",
            "taskmanager.memory.jvm-overhead.min: 192m",
            "taskmanager.memory.jvm-overhead.max: 192m",
            "rest.address: " + Ports.LOOPBACK,
            "rest.bind-address: " + Ports.LOOPBACK,
            "rest.port: " + restPort,
            "blob.server.port: \"0\"",
            "metrics.internal.query-service.port: \"0\"",
            "io.tmp.dirs: " + tmp,
            "parallelism.default: 1",
            // a killed TaskManager is noticed within seconds, and its jobs restart
            "heartbeat.interval: 1000",
            "heartbeat.timeout: 5000",
            "restart-strategy.type: fixed-delay",
            "restart-strategy.fixed-delay.attempts: 20",
            "restart-strategy.fixed-delay.delay: 1 s",
            "");
    Files.writeString(conf.resolve("config.yaml"), yaml);
    Files.writeString(
        conf.resolve("logback.xml"),
        String.join(
            "\n",
            "<configuration>",
            "  <appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
            "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>",
            "  </appender>",
            "  <root level=\"INFO\"><appender-ref ref=\"OUT\"/></root>",
            "</configuration>",
            ""));
    // the classpath in an argfile, so the command line stays short; and the packages Flink's
    // distribution opens on Java 17 (its env.java.opts.all): the CLI's stream-graph translators
    // and Kryo reflect into java.util and friends
    String classpath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> NOT_FLINK.stream().noneMatch(e.replace('\\', '/')::contains))
            .collect(Collectors.joining(File.pathSeparator));
    StringBuilder argfile = new StringBuilder();
    for (String pkg : JAVA_17_OPENS) {
      argfile.append("--add-opens=java.base/").append(pkg).append("=ALL-UNNAMED\n");
    }
    argfile.append("-cp\n\"").append(classpath).append("\"\n");
    Files.writeString(dir.resolve("flink.argfile"), argfile);
  }

  private Process launch(String name, String mainClass, String heap, List<String> args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(heap);
    cmd.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
    cmd.add("-Dlogback.configurationFile=" + conf.resolve("logback.xml"));
    cmd.add("@" + dir.resolve("flink.argfile"));
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().put("FLINK_CONF_DIR", conf.toString());
    pb.environment().put("TMPDIR", dir.resolve("tmp").toString());
    Process p = pb.start();
    processes.add(p);
    reapers.add(ChildReaper.watch(p));
    return p;
  }

  private void awaitSlots(int slots, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Pattern total = Pattern.compile("\"slots-total\"\\s*:\\s*(\\d+)");
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IOException(
              "a Flink process exited with " + p.exitValue() + " during start-up:\n" + logs());
        }
      }
      Matcher m = total.matcher(get("/overview").orElse(""));
      if (m.find() && Integer.parseInt(m.group(1)) >= slots) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new IOException("the Flink cluster was not ready within " + timeout + ":\n" + logs());
  }

  /**
   * {@code flink run --detached jar args}: Flink's CLI in its own JVM against this cluster.
   *
   * @return the submitted job's id
   */
  String submit(Path jar, List<String> args, Duration timeout)
      throws IOException, InterruptedException {
    List<String> cli =
        new ArrayList<>(List.of("run", "--detached", jar.toAbsolutePath().toString()));
    cli.addAll(args);
    Process p = launch("flink-run", "org.apache.flink.client.cli.CliFrontend", "-Xmx256m", cli);
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      ChildProcesses.stop(p, "flink run", 5);
      throw new IOException("flink run did not finish within " + timeout);
    }
    String out = Files.readString(dir.resolve("flink-run.log"), StandardCharsets.UTF_8);
    Matcher m = JOB_ID.matcher(out);
    if (p.exitValue() != 0 || !m.find()) {
      throw new IOException("flink run failed (exit " + p.exitValue() + "):\n" + out);
    }
    return m.group(1);
  }

  /** The job's state as the JobManager's REST API reports it (RUNNING, FINISHED, FAILED, …). */
  String jobState(String jobId) throws IOException, InterruptedException {
    String body = get("/jobs/" + jobId).orElseThrow(() -> new IOException("no such job " + jobId));
    Matcher m = STATE.matcher(body);
    if (!m.find()) {
      throw new IOException("no state in " + body);
    }
    return m.group(1);
  }

  /**
   * The job's name as the JobManager's REST API reports it: the first {@code name} of its details,
   * which come before its vertices' names.
   */
  String jobName(String jobId) throws IOException, InterruptedException {
    String body = get("/jobs/" + jobId).orElseThrow(() -> new IOException("no such job " + jobId));
    Matcher m = NAME.matcher(body);
    if (!m.find()) {
      throw new IOException("no name in " + body);
    }
    return m.group(1);
  }

  /** The last lines of the JobManager's and the TaskManager's logs, for failure messages. */
  String logs() throws IOException {
    StringBuilder b = new StringBuilder();
    for (String name : List.of("jobmanager", "taskmanager", "taskmanager-2")) {
      Path log = dir.resolve(name + ".log");
      if (!Files.exists(log)) {
        continue;
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      b.append("--- ")
          .append(name)
          .append(".log (end)\n")
          .append(text.length() <= 5_000 ? text : text.substring(text.length() - 5_000))
          .append('\n');
    }
    return b.toString();
  }

  private Optional<String> get(String path) throws InterruptedException {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create("http://" + Ports.LOOPBACK + ":" + restPort + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    try {
      HttpResponse<String> resp = http.send(r, HttpResponse.BodyHandlers.ofString());
      return resp.statusCode() == 200 ? Optional.of(resp.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty(); // not listening yet
    }
  }

  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      ChildProcesses.stop(processes.get(i), "flink process", 15);
    }
    reapers.forEach(ChildReaper::close);
  }
}
