package io.feedrank.trainer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The build of the trainer that is running, as the build wrote it ({@code build.properties}, made
 * by trainer-job's pom): the project version, the git commit and whether tracked files differed
 * from it ({@code true}, {@code false}). A run records it in {@code run.json}'s environment and in
 * its ONNX files, because code constants shape models as much as parameters do: two runs of the
 * same parameters and feature schema by different builds may differ. Commit and dirty are {@value
 * #UNKNOWN} for a build without git or outside a repository (a source tarball), and all three for
 * classes compiled by something other than Maven.
 */
public record BuildInfo(String version, String commit, String dirty) {
  public static final String UNKNOWN = "unknown";
  static final String RESOURCE = "build.properties";

  private static final BuildInfo CURRENT = load();

  public static BuildInfo current() {
    return CURRENT;
  }

  /** {@code 0.1.0-SNAPSHOT 1ff98e0…}, with {@code dirty} appended for a build of changed files. */
  public String describe() {
    return version + " " + commit + ("true".equals(dirty) ? " dirty" : "");
  }

  private static BuildInfo load() {
    try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return new BuildInfo(UNKNOWN, UNKNOWN, UNKNOWN);
      }
      Properties p = new Properties();
      p.load(in);
      return new BuildInfo(
          p.getProperty("version", UNKNOWN).strip(),
          p.getProperty("commit", UNKNOWN).strip(),
          p.getProperty("dirty", UNKNOWN).strip());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the trainer's " + RESOURCE, e);
    }
  }
}
