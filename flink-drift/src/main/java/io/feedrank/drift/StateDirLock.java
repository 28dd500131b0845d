package io.feedrank.drift;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One local drift job per state directory ({@code ./feedrank drift --state-dir}): an exclusive lock
 * on {@code dir/}{@value #FILE}, taken before the job starts and held until it has stopped (its
 * savepoint written), with who holds it written in the file. The operating system drops the lock
 * when its process ends, however it ends ({@code kill -9} included), so a crash leaves nothing to
 * clean up; the file itself stays.
 *
 * <p>Two jobs on the same topics and group both read every record — Flink's Kafka source assigns
 * the partitions itself, the group id only names where offsets are committed, so Kafka balances
 * nothing between them — and every drift report, alert and retrain command came out twice; on one
 * state directory they also restored and deleted each other's checkpoints. Nothing said so.
 */
public final class StateDirLock implements AutoCloseable {
  /** The lock file's name in the state directory. */
  public static final String FILE = "drift.lock";

  /**
   * The lock files this process holds, by real path, with what it wrote in them. A second job of
   * this process is refused from here, without opening the file: the system's lock is the
   * process's, and on Linux closing any channel of the file, or reading it, drops it. A refusal
   * that opened the file to try its lock, then closed it and read it for its message, left the
   * first job running without a lock, and a job in another process could then take the directory.
   */
  private static final Map<Path, Properties> HELD_HERE = new ConcurrentHashMap<>();

  private final Path key;

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private StateDirLock(Path key, Path file, FileChannel channel, FileLock lock) {
    this.key = key;
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** The state directory is another job's: its message names the directory and the holder. */
  public static final class HeldException extends IllegalStateException {
    private final transient Properties holder;

    HeldException(String message, Properties holder) {
      super(message);
      this.holder = holder;
    }

    /** What the holder wrote: {@code pid}, {@code host}, {@code started}, {@code group.id}. */
    public Properties holder() {
      return holder;
    }
  }

  /**
   * Takes the lock of {@code dir} (created if missing) for this process and writes who holds it.
   *
   * @param groupId the job's {@code group.id}, written for the message of a job refused
   * @throws HeldException when another job, of this process or another, holds it
   * @throws UncheckedIOException when the file cannot be created or locked
   */
  public static synchronized StateDirLock acquire(Path dir, String groupId) {
    Path file = dir.resolve(FILE);
    FileChannel channel = null;
    try {
      Files.createDirectories(dir);
      Path key = dir.toRealPath().resolve(FILE);
      Properties here = HELD_HERE.get(key);
      if (here != null) {
        throw held(dir, here);
      }
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this JVM, through another channel
      }
      if (lock == null) {
        channel.close();
        throw held(dir, readHolder(file));
      }
      Properties me = new Properties();
      me.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
      me.setProperty("host", hostName());
      me.setProperty("started", Instant.now().toString());
      me.setProperty("group.id", groupId);
      StringWriter text = new StringWriter();
      me.store(text, "the drift job that holds this state directory; released when it stops");
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.ISO_8859_1)), 0);
      channel.force(true);
      HELD_HERE.put(key, me);
      return new StateDirLock(key, file, channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot lock the drift state directory " + dir, e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** What the holder, another process, wrote in {@code file}; empty when unreadable. */
  private static Properties readHolder(Path file) {
    Properties holder = new Properties();
    try {
      holder.load(new StringReader(Files.readString(file, StandardCharsets.ISO_8859_1)));
    } catch (IOException | RuntimeException e) {
      // unreadable (a lock that is mandatory on this system): the message says less
    }
    return holder;
  }

  private static HeldException held(Path dir, Properties holder) {
    String who =
        holder.getProperty("pid") == null
            ? "another process"
            : "pid "
                + holder.getProperty("pid")
                + " on "
                + holder.getProperty("host", "?")
                + ", started "
                + holder.getProperty("started", "?")
                + ", group.id "
                + holder.getProperty("group.id", "?");
    return new HeldException(
        "another drift job holds the state directory "
            + dir
            + " ("
            + who
            + "). Two jobs on the same topics both process every record and double every drift"
            + " report, alert and retrain command: stop that one first (a job for another model"
            + " needs a --state-dir of its own, and a group.id of its own if it sets one)",
        holder);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown host";
    }
  }

  private static void closeQuietly(FileChannel c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing after a failure: the failure is what is reported
      }
    }
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Releases the lock (the file stays, for the next holder to overwrite). */
  @Override
  public void close() {
    synchronized (StateDirLock.class) {
      try {
        if (lock.isValid()) {
          lock.release();
        }
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot release " + file, e);
      } finally {
        HELD_HERE.remove(key);
      }
    }
  }
}
