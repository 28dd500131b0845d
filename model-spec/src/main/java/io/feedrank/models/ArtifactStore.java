package io.feedrank.models;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where model artifacts live. The trainer puts, the ranker fetches; both meet on the URI recorded
 * in {@code ModelVersion.artifact_uri}. The project ships a filesystem store ({@link
 * FileArtifactStore}); an object store is another implementation of this interface.
 */
public interface ArtifactStore {

  /** Stores {@code bytes} as {@code name} under {@code runId} and returns its URI. */
  URI put(String runId, String name, byte[] bytes) throws IOException;

  /**
   * The bytes behind a URI this store (or a store of the same kind) returned, as many as an array
   * holds: a reader that would not hold any number of them uses {@link #get(URI, int)}. Read as
   * that one reads, in chunks: a file read at once ({@code Files.readAllBytes}) goes through a
   * temporary direct buffer of its size, which NIO keeps for the reading thread as long as the
   * thread lives, and a trainer's worker held one of its production model's size.
   */
  default byte[] get(URI uri) throws IOException {
    return get(uri, Integer.MAX_VALUE - 8); // the longest array the JDK allocates itself
  }

  /** A local file holding the artifact (the artifact itself for a filesystem store). */
  Path localCopy(URI uri) throws IOException;

  /**
   * The bytes behind a URI if they are at most {@code maxBytes}, else {@link
   * ArtifactTooLargeException}: refused by the file's size before a byte is read when that says
   * more, and after at most {@code maxBytes} and 8 more when the size understated it (a file under
   * /proc says 0 whatever it holds, one on a network filesystem may say what it held once). The
   * size is trusted only to size the first buffer: what is read is held in at most twice {@code
   * maxBytes}, briefly, and in {@code maxBytes} once read.
   */
  default byte[] get(URI uri, int maxBytes) throws IOException {
    try (SeekableByteChannel ch = Files.newByteChannel(localCopy(uri))) {
      long said = ch.size();
      if (said > maxBytes) {
        throw new ArtifactTooLargeException(uri, said, 0, maxBytes);
      }
      return readAtMost(Channels.newInputStream(ch), uri, said, maxBytes);
    }
  }

  /** Reads to the end of {@code in}, refusing once more than {@code maxBytes} have come. */
  private static byte[] readAtMost(InputStream in, URI uri, long said, int maxBytes)
      throws IOException {
    // reads of a multiple of 8 bytes, in chunks (a read into a heap array goes through a direct
    // buffer of its length): /proc/<pid>/pagemap refuses any other count (EINVAL)
    final int chunk = 64 * 1024;
    byte[] buf = new byte[(int) Math.max(said, 0)];
    int n = 0;
    byte[] more = null;
    while (true) {
      if (n < buf.length) {
        int r = in.read(buf, n, Math.min(chunk, buf.length - n));
        if (r < 0) {
          return Arrays.copyOf(buf, n); // shorter than its size said
        }
        n += r;
        continue;
      }
      // as long as said (or as the buffer grew to): more only if the size understated it
      if (more == null) {
        more = new byte[8];
      }
      int r = in.read(more, 0, more.length);
      if (r < 0) {
        return buf;
      }
      if ((long) n + r > maxBytes) {
        throw new ArtifactTooLargeException(uri, said, (long) n + r, maxBytes);
      }
      buf = Arrays.copyOf(buf, (int) Math.min(maxBytes, Math.max(2L * n, (long) n + chunk)));
      System.arraycopy(more, 0, buf, n, r);
      n += r;
    }
  }

  /** The store for a configured location: a filesystem path or a {@code file:} URI. */
  static ArtifactStore forLocation(String location) {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException("artifact store location is empty");
    }
    if (location.startsWith("file:")) {
      return new FileArtifactStore(Path.of(URI.create(location)));
    }
    if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
      throw new IllegalArgumentException(
          "artifact store '" + location + "': only filesystem paths and file: URIs are supported");
    }
    return new FileArtifactStore(Path.of(location));
  }
}
