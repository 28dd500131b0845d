package io.feedrank.trainer.runs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.feedrank.models.FileArtifactStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Runs as directories of a filesystem artifact store: {@code <root>/<runId>/run.json} next to the
 * run's model files, written atomically.
 */
public final class FileRunStore implements RunStore {
  public static final String RUN_FILE = "run.json";
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final FileArtifactStore store;

  public FileRunStore(FileArtifactStore store) {
    this.store = store;
  }

  /** Creates the run's directory ({@link Files#createDirectory}: atomic, fails if it exists). */
  @Override
  public boolean create(String runId) {
    Path root = store.root();
    try {
      Files.createDirectories(root);
      Files.createDirectory(root.resolve(runId));
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run " + runId + " under " + root, e);
    }
  }

  @Override
  public void save(RunRecord run) {
    try {
      store.put(run.id, RUN_FILE, JSON.writeValueAsBytes(run));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write run " + run.id, e);
    }
  }

  @Override
  public List<RunRecord> list() {
    Path root = store.root();
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<RunRecord> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.toList()) {
        Path f = d.resolve(RUN_FILE);
        if (Files.isRegularFile(f)) {
          out.add(read(f));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list runs under " + root, e);
    }
    out.sort(
        Comparator.comparing((RunRecord r) -> r.startedAt == null ? "" : r.startedAt).reversed());
    return out;
  }

  /** When the record of {@code runId} was last saved, if there is one. */
  public Optional<java.time.Instant> savedAt(String runId) {
    Path f = store.root().resolve(runId).resolve(RUN_FILE);
    try {
      return Optional.of(Files.getLastModifiedTime(f).toInstant());
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }

  @Override
  public Optional<RunRecord> get(String runId) {
    Path f = store.root().resolve(runId).resolve(RUN_FILE);
    if (runId.contains("/") || !Files.isRegularFile(f)) {
      return Optional.empty();
    }
    return Optional.of(read(f));
  }

  private static RunRecord read(Path f) {
    try {
      return JSON.readValue(f.toFile(), RunRecord.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  /** The JSON form of a run, as written. */
  public static String toJson(RunRecord run) {
    try {
      return JSON.writeValueAsString(run);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
