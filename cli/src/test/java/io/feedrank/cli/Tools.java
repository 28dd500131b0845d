package io.feedrank.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs a command-line tool a check needs (promtool, docker-compose), bounded in time. */
public final class Tools {
  /** How long a tool may run before it is killed and the check fails. */
  static final long TIMEOUT_SECONDS = 60;

  /**
   * Runs {@code command} in {@code dir} and returns its exit code, printing its output when that is
   * not 0. The output goes to a file, read once the tool has exited, so a tool that hangs is killed
   * at {@link #TIMEOUT_SECONDS} instead of holding a read of its output open for good.
   *
   * @param debianPackage what to install when the tool is not on PATH
   */
  public static int run(Path dir, String debianPackage, String... command) throws Exception {
    Path out = Files.createTempFile(Path.of("target").toAbsolutePath(), "tool-", ".out");
    // promtool's rule tests keep a TSDB in $TMPDIR, left behind when a test of them fails
    Path tmp = Files.createDirectories(Path.of("target", "tool-tmp").toAbsolutePath());
    try {
      Process p;
      try {
        ProcessBuilder b =
            new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        b.environment().put("TMPDIR", tmp.toString());
        p = b.start();
      } catch (IOException e) {
        throw new AssertionError(
            command[0]
                + " is not on PATH: install Debian's "
                + debianPackage
                + " package (README, Running the tests)",
            e);
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            String.join(" ", command)
                + " ran over "
                + TIMEOUT_SECONDS
                + " s and was killed:\n"
                + Files.readString(out, StandardCharsets.UTF_8));
      }
      if (p.exitValue() != 0) {
        System.err.println(
            String.join(" ", command) + ":\n" + Files.readString(out, StandardCharsets.UTF_8));
      }
      return p.exitValue();
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private Tools() {}
}
