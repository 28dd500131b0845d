package io.feedrank.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
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

  /**
   * A registry record names its artifact by URI, and anyone who can write a record can name any
   * path: what is not under the store's root, once {@code ..} and links are resolved, is not in the
   * store, as a path in another store is not. A root that is itself a link still holds its
   * artifacts.
   */
  @Test
  void aPathOutOfTheStoreIsNotInTheStore(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("store");
    FileArtifactStore store = new FileArtifactStore(root);
    URI inside = store.put("run-1", "model.onnx", new byte[] {1, 2, 3});
    Path outside = Files.write(dir.resolve("outside.onnx"), new byte[] {4, 5});
    URI dotDot = URI.create(inside.toString().replace("run-1/model.onnx", "../outside.onnx"));
    assertThat(Path.of(dotDot).normalize()).isEqualTo(outside); // the path is as meant
    Path link =
        Files.createSymbolicLink(
            Files.createDirectories(root.resolve("run-2")).resolve("model.onnx"), outside);

    for (URI u : List.of(outside.toUri(), dotDot, link.toUri(), URI.create("file:///etc/hosts"))) {
      assertThatThrownBy(() -> store.get(u))
          .as(u.toString())
          .isInstanceOf(NoSuchFileException.class)
          .hasMessageContaining("not in the store");
    }
    // a link that stays in the store is followed
    Path within =
        Files.createSymbolicLink(
            Files.createDirectories(root.resolve("run-3")).resolve("model.onnx"), Path.of(inside));
    assertThat(store.get(within.toUri())).containsExactly(1, 2, 3);
    // the root reached through a link (a mount elsewhere), the URI spelled either way
    FileArtifactStore linked =
        new FileArtifactStore(Files.createSymbolicLink(dir.resolve("l"), root));
    assertThat(linked.get(inside)).containsExactly(1, 2, 3);
    assertThat(linked.get(dir.resolve("l/run-1/model.onnx").toUri())).containsExactly(1, 2, 3);
  }

  /**
   * A bounded read is refused by the file's size before a byte is read, and where the size
   * understates what the file holds, once more than the bound has been read: {@code
   * /proc/self/pagemap} says 0 bytes and holds 8 for every page of the process's address space
   * (terabytes' worth), which a read trusting its size would go on reading.
   */
  @Test
  void aBoundedReadRefusesMoreThanItsBoundWhateverTheSizeSays(@TempDir Path dir) throws Exception {
    FileArtifactStore store = new FileArtifactStore(dir);
    URI hundred = store.put("run-1", "model.onnx", new byte[100]);
    assertThat(store.get(hundred, 100)).hasSize(100);
    ArtifactTooLargeException bySize =
        catchThrowableOfType(ArtifactTooLargeException.class, () -> store.get(hundred, 99));
    assertThat(bySize.refusedBySize()).isTrue();
    assertThat(bySize.sizeBytes()).isEqualTo(100);

    Path pagemap = Path.of("/proc/self/pagemap");
    assertThat(Files.size(pagemap)).as("what stat says of it").isZero();
    FileArtifactStore proc = new FileArtifactStore(Path.of("/proc/self"));
    int mib = 1 << 20;
    ArtifactTooLargeException read =
        catchThrowableOfType(ArtifactTooLargeException.class, () -> proc.get(pagemap.toUri(), mib));
    assertThat(read.refusedBySize()).isFalse();
    assertThat(read.sizeBytes()).isZero();
    assertThat(read).hasMessageContaining("more than " + mib + " bytes");
  }

  /**
   * A read of a whole artifact keeps no direct buffer of its size: read at once ({@code
   * Files.readAllBytes}), a file went through a temporary direct buffer as large as itself, which
   * NIO caches for the reading thread for as long as the thread lives (no {@code
   * jdk.nio.maxCachedBufferSize} set), so the trainer's worker kept one of its production model's
   * size (~19 MB by default). Measured on this thread, around the read alone: the write before it
   * goes out in 8 KB pieces ({@code Files.write}).
   */
  @Test
  void aWholeReadKeepsNoDirectBufferOfTheArtifactsSize(@TempDir Path dir) throws Exception {
    FileArtifactStore store = new FileArtifactStore(dir);
    int size = 32 << 20;
    URI uri = store.put("run-1", "model.onnx", new byte[size]);
    BufferPoolMXBean direct =
        ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(b -> b.getName().equals("direct"))
            .findFirst()
            .orElseThrow();
    long before = direct.getMemoryUsed();
    byte[] read = store.get(uri);
    long grown = direct.getMemoryUsed() - before;
    assertThat(read).hasSize(size);
    assertThat(grown)
        .as("direct buffer bytes kept after reading %d bytes", size)
        .isLessThan(1 << 20);
  }
}
