package io.feedrank.cli.bench;

import io.feedrank.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The java command of a benchmark's child JVM (the load generator, the ranker) on this JVM's
 * classpath. The classpath goes in an argfile: ONNX Runtime kills a JVM whose command line is ~4 KB
 * or longer.
 */
final class ChildJvm {
  private ChildJvm() {}

  /** Writes this JVM's classpath as a {@code -cp} argfile in {@code dir}; the caller deletes it. */
  static Path classpathArgfile(Path dir, String prefix) throws IOException {
    Path argfile = Files.createTempFile(dir, prefix, ".args");
    Files.writeString(
        argfile,
        "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n",
        StandardCharsets.UTF_8);
    return argfile;
  }

  /** {@code java <jvmOptions> @argfile <main> <args>}, with this JVM's java. */
  static List<String> command(
      List<String> jvmOptions, Path argfile, Class<?> main, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("@" + argfile);
    cmd.add(main.getName());
    cmd.addAll(args);
    return cmd;
  }

  /** The whitespace-separated JVM options in the environment variable {@code env}, if set. */
  static List<String> extraOptions(String env) {
    String extra = System.getenv(env);
    return extra == null || extra.isBlank() ? List.of() : List.of(extra.trim().split("\\s+"));
  }

  /** A started {@code feedrank} service, its output file, and the input files to delete after. */
  record Service(Process process, Path log, List<Path> inputs) {}

  /**
   * Starts {@code feedrank <command> --config <dir>/<name>.properties} (holding {@code config}) in
   * a child JVM with {@code jvmOptions}, then the whitespace-separated options in the environment
   * variable {@code extraOptionsEnv} (a flight recording, another collector), and {@code TMPDIR}
   * and {@code env} in its environment; its output goes to {@code <dir>/<name>.log}.
   */
  static Service feedrank(
      String command,
      Map<String, String> config,
      List<String> jvmOptions,
      String extraOptionsEnv,
      Map<String, String> env,
      Path dir,
      String name)
      throws IOException {
    Properties p = new Properties();
    p.putAll(config);
    Path file = dir.resolve(name + ".properties");
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "bench " + command);
    }
    Path argfile = classpathArgfile(dir, name + "-");
    List<String> jvm = new ArrayList<>(jvmOptions);
    jvm.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    jvm.addAll(extraOptions(extraOptionsEnv));
    Path log = dir.resolve(name + ".log");
    ProcessBuilder b =
        new ProcessBuilder(
                command(jvm, argfile, Main.class, List.of(command, "--config", file.toString())))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    b.environment().put("TMPDIR", System.getProperty("java.io.tmpdir"));
    b.environment().putAll(env);
    return new Service(b.start(), log, List.of(file, argfile));
  }
}
