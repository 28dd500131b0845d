package io.feedrank.trainer.prune;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@code registry prune} and a {@code registry promote} or {@code rollback} on one artifact
 * store from running at once. The prune reads the registry a last time, then deletes the files of
 * the versions it no longer keeps; the promotion checks that the version's files are there ({@link
 * PrunedArtifacts}), then writes it as production. Interleaved, the prune could read the version as
 * ARCHIVED, the promotion find its files and write it, and the prune delete them: production would
 * name files that are gone (the rankers refuse it, the drift job measures against its reference,
 * the next run cannot compare with it). The prune holds this lock from that last read through its
 * last delete, the promotion around its check and its write: whichever comes second waits, and sees
 * what the first did.
 *
 * <p>The lock is the operating system's exclusive lock ({@link FileChannel#lock}) on {@code
 * <root>/}{@value #FILE}, so it holds between the processes that see the store as one filesystem
 * (one host, or a shared volume whose filesystem honours file locks); the system drops it when its
 * process ends, however it ends. A process where the store's root is not a directory takes no lock:
 * it cannot check a version's files either (run away from the store). The file is never deleted
 * (one process could hold the lock of a file another then deletes and creates again), and a prune
 * neither lists nor deletes it. A file lock is the process's, not a thread's, so the threads of one
 * process wait for each other on a lock in memory first.
 */
public final class StoreLock implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreLock.class);

  /** The lock file's name, in the store's root. */
  public static final String FILE = ".registry.lock";

  private static final ReentrantLock IN_THIS_PROCESS = new ReentrantLock();

  private final FileChannel channel; // null: no store here, no lock taken

  private StoreLock(FileChannel channel) {
    this.channel = channel;
  }

  /**
   * Takes the lock of the store at {@code root}, waiting for whoever holds it; takes none (and
   * returns at once) when {@code root} is not a directory.
   *
   * @throws IOException when the lock file cannot be opened (a store this process may not write to)
   *     or locked
   */
  public static StoreLock take(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return new StoreLock(null);
    }
    Path file = root.resolve(FILE);
    if (!IN_THIS_PROCESS.tryLock()) {
      log.info(
          "registry: waiting for the lock of the artifact store {} (held in this process)", root);
      IN_THIS_PROCESS.lock();
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        log.info(
            "registry: waiting for the lock of the artifact store {}: another process holds {}"
                + " (a registry prune, promote or rollback)",
            root,
            file);
        channel.lock();
      }
      return new StoreLock(channel);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException closing) {
          e.addSuppressed(closing);
        }
      }
      IN_THIS_PROCESS.unlock();
      throw e;
    }
  }

  /** Releases the lock (closing the channel releases the file's); the file stays. */
  @Override
  public void close() throws IOException {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } finally {
      IN_THIS_PROCESS.unlock();
    }
  }
}
