package io.feedrank.cli.bench;

import io.feedrank.localstack.ChildProcesses;
import io.feedrank.localstack.ChildReaper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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
    ChildJvm.Service s =
        ChildJvm.feedrank(
            "streams",
            config,
            List.of("-Xss2m", "-XX:+UseParallelGC"), // as ./feedrank streams
            EXTRA_OPTIONS_ENV,
            Map.of(),
            dir,
            name);
    return new FeaturesProcess(s.process(), s.log(), s.inputs());
  }

  long pid() {
    return process.pid();
  }

  /** CPU milliseconds the app's JIT compiler threads have used so far. */
  double jitCpuMillis() {
    return CpuUse.compilerThreadsMillis(process.pid());
  }

  /** The app's peak resident set (VmHWM), in MiB; NaN where /proc does not say. */
  double residentPeakMegabytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0; // kB
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or the process is gone: the figure is missing, not the run
    }
    return Double.NaN;
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
