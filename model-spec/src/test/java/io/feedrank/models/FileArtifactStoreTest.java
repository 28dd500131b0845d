package io.feedrank.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is not in the store ({@link NoSuchFileException}) is told apart from a store that cannot be
 * read now (another {@link IOException}): a trainer rejects a candidate for the first and tries its
 * run again for the second.
 */
class FileArtifactStoreTest {
  @Test
  void anArtifactIsReadBackAndWhatIsNotInTheStoreIsNoSuchFile(@TempDir Path dir) throws Exception {
    FileArtifactStore store = new FileArtifactStore(dir.resolve("store"));
    URI uri = store.put("run-1", "model.onnx", new byte[] {1, 2, 3});
    assertThat(store.get(uri)).containsExactly(1, 2, 3);

    URI elsewhere = dir.resolve("other/model.onnx").toUri();
    assertThatThrownBy(() -> store.get(elsewhere))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessage("artifact not found: " + elsewhere);
    assertThatThrownBy(() -> store.get(URI.create("s3://bucket/model.onnx")))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("not a file: URI");
    assertThatThrownBy(() -> store.get(dir.resolve("store/run-1").toUri()))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void aStoreWhoseRootIsGoneIsAnIoErrorNotAMissingArtifact(@TempDir Path dir) throws Exception {
    FileArtifactStore store = new FileArtifactStore(dir.resolve("store"));
    URI uri = store.put("run-1", "model.onnx", new byte[] {1});
    Files.delete(Path.of(uri));
    Files.delete(dir.resolve("store/run-1"));
    Files.delete(dir.resolve("store"));
    assertThatThrownBy(() -> store.get(uri))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("is not there");
  }
}
