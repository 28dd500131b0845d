package io.feedrank.streams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * A test's {@code @TempDir} for Kafka Streams state: a fresh directory under target/streams-state,
 * outside {@code java.io.tmpdir} (target/tmp), which JUnit deletes after the test as any other.
 * Streams warns at every start about a state.dir inside the temp dir, which the OS may clear; in
 * the default {@code @TempDir} every test that starts a topology with a store said so.
 */
final class StateDirFactory implements TempDirFactory {
  @Override
  public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context)
      throws IOException {
    Path parent = Files.createDirectories(Path.of("target", "streams-state").toAbsolutePath());
    return Files.createTempDirectory(parent, "junit");
  }
}
