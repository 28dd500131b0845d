package io.feedrank.cli.bench;

import io.feedrank.cli.Main;
import io.feedrank.localstack.ChildProcesses;
import io.feedrank.localstack.ChildReaper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The features app as it runs in production: {@code feedrank streams} in a JVM of its own, with the
 * options {@code ./feedrank streams} starts it with (Parallel GC). Its JIT, heap and collector are
 * then not shared with the benchmark's in-process broker: before, the broker's first compiles of
 * ~1,300 methods and its allocation ran in the app's JVM for minutes into the measured backlog.
 */
final class FeaturesProcess implements AutoCloseable {
  /** Extra JVM options for the app's JVM, whitespace-separated (profiling, another collector). */
  static final String EXTRA_OPTIONS_ENV = "FEEDRANK_BENCH_STREAMS_JAVA_OPTS";

  private final Process process;
  private final ChildReaper reaper;
  private final Path log;
  private final List<Path> inputs;

  private FeaturesProcess(Process process, Path log, List<Path> inputs) {
    this.process = process;
    this.reaper = ChildReaper.watch(process);
    this.log = log;
    this.inputs = inputs;
  }

  /** Starts {@code feedrank streams} with {@code config} (any FeaturesConfig key). */
  static FeaturesProcess start(Map<String, String> config, Path dir, String name)
      throws IOException {
    Properties p = new Properties();
    p.putAll(config);
    Path file = dir.resolve(name + ".properties");
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "bench streams");
    }
    Path argfile = ChildJvm.classpathArgfile(dir, name + "-");
    List<String> jvm =
        new ArrayList<>(
            List.of(
                "-Xss2m",
                "-XX:+UseParallelGC", // as ./feedrank streams
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir")));
    String extra = System.getenv(EXTRA_OPTIONS_ENV);
    if (extra != null && !extra.isBlank()) {
      jvm.addAll(List.of(extra.trim().split("\\s+")));
    }
    List<String> cmd =
        ChildJvm.command(jvm, argfile, Main.class, List.of("streams", "--config", file.toString()));
    Path log = dir.resolve(name + ".log");
    ProcessBuilder b =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    b.environment().put("TMPDIR", System.getProperty("java.io.tmpdir"));
    return new FeaturesProcess(b.start(), log, List.of(file, argfile));
  }

  long pid() {
    return process.pid();
  }

  /** CPU milliseconds the app's JIT compiler threads have used so far. */
  double jitCpuMillis() {
    return CpuUse.compilerThreadsMillis(process.pid());
  }

  /** Throws when the app has exited (it runs until stopped). */
  void checkAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException(
          "the features app exited with " + process.exitValue() + "; see " + log);
    }
  }

  /** SIGTERM (the app closes Kafka Streams and flushes Redis), then SIGKILL after 40 s. */
  @Override
  public void close() throws IOException {
    ChildProcesses.stop(process, "features app", 40);
    reaper.close();
    for (Path p : inputs) {
      Files.deleteIfExists(p);
    }
  }
}
