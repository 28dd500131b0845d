package io.feedrank.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

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
}
