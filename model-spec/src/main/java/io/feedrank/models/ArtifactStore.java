package io.feedrank.models;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where model artifacts live. The trainer puts, the ranker fetches; both meet on the URI recorded
 * in {@code ModelVersion.artifact_uri}. The project ships a filesystem store ({@link
 * FileArtifactStore}); an object store is another implementation of this interface.
 */
public interface ArtifactStore {

  /** Stores {@code bytes} as {@code name} under {@code runId} and returns its URI. */
  URI put(String runId, String name, byte[] bytes) throws IOException;

  /** The bytes behind a URI this store (or a store of the same kind) returned. */
  byte[] get(URI uri) throws IOException;

  /** A local file holding the artifact (the artifact itself for a filesystem store). */
  Path localCopy(URI uri) throws IOException;

  /**
   * The artifact's size in bytes, known before its bytes are read: a reader can refuse what it
   * would not hold in memory.
   */
  default long size(URI uri) throws IOException {
    return Files.size(localCopy(uri));
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
