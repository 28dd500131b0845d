package io.feedrank.models;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Artifacts as files under a root directory: {@code <root>/<runId>/<name>}, written to a temporary
 * file and moved into place atomically, so a reader never sees half an artifact.
 */
public final class FileArtifactStore implements ArtifactStore {
  private final Path root;

  public FileArtifactStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  @Override
  public URI put(String runId, String name, byte[] bytes) throws IOException {
    requireSimpleName(runId, "run id");
    requireSimpleName(name, "artifact name");
    Path dir = Files.createDirectories(root.resolve(runId));
    Path tmp = Files.createTempFile(dir, name, ".part");
    try {
      Files.write(tmp, bytes);
      Path target = dir.resolve(name);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return target.toUri();
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * The artifact's file, which must be in the store: under its root once {@code ..} and every
   * symbolic link are resolved, on both sides (the path returned is the file's real one). Throws
   * {@link NoSuchFileException} when the artifact is not in the store (not a {@code file:} URI, a
   * path outside the root or a link out of it, or no such file while the store's root is there),
   * which a reader can tell from an I/O error (any other {@link IOException}, the store's root
   * missing included: a volume away for a moment), which may not happen again. A registry record
   * can name any path: without the check, the ranker (and the trainer, for production's) would read
   * any file the process may, such as those under /proc, whose size says 0 whatever they hold.
   */
  @Override
  public Path localCopy(URI uri) throws IOException {
    if (!"file".equals(uri.getScheme())) {
      throw new NoSuchFileException("not a file: URI: " + uri);
    }
    Path p = Path.of(uri).normalize();
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      if (!Files.isDirectory(root)) {
        throw new IOException("artifact store " + root + " is not there (a volume away?)", e);
      }
      throw new NoSuchFileException("artifact not found: " + uri);
    }
    if (!a.isRegularFile()) {
      throw new NoSuchFileException("artifact not found (not a file): " + uri);
    }
    // real paths on both sides: the root may be a link (to a mount), or spelled another way by
    // the trainer that wrote the URI; what is under it may not lead out of it
    Path real = p.toRealPath();
    Path realRoot;
    try {
      realRoot = root.toRealPath();
    } catch (NoSuchFileException e) {
      throw new IOException("artifact store " + root + " is not there (a volume away?)", e);
    }
    if (!real.startsWith(realRoot)) {
      throw new NoSuchFileException(
          "artifact not in the store (" + real + " is not under " + realRoot + "): " + uri);
    }
    return real;
  }

  private static void requireSimpleName(String s, String what) {
    if (s == null || s.isEmpty() || !s.matches("[A-Za-z0-9._@-]+") || s.startsWith(".")) {
      throw new IllegalArgumentException(
          what + " '" + s + "' must be letters, digits, '.', '_', '@' or '-'");
    }
  }
}
