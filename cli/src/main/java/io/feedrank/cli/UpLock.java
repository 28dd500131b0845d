package io.feedrank.cli;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * One {@code ./feedrank up} per checkout: other commands find the running stack through its
 * announcement ({@link Endpoints}), which a second one would replace (and withdraw when it stopped,
 * leaving the first one's stack found by nothing), and both would write to one log.
 *
 * <p>Held as an exclusive lock on {@code .feedrank/}{@value #FILE}, taken before up starts or
 * writes anything and held for as long as its process lives, with its pid written in the file for
 * the message of a second one. The operating system drops the lock when the process ends, however
 * it ends ({@code kill -9} included), so a crash leaves nothing to clean up; the file itself stays.
 *
 * <p>The check it replaces read the announcement in {@code stack.properties}, which up writes only
 * once its start has completed, 3 to 5 minutes later: two ups started seconds apart both passed it,
 * the second truncated the first's log, and whichever bound a preferred port second failed minutes
 * on.
 *
 * <p>{@code ./feedrank demo} holds one the same way on its output directory ({@link #acquire(Path,
 * String, Function)}), which a second demo there would delete under it.
 */
final class UpLock implements AutoCloseable {
  /** The lock file's name in {@link Endpoints#stateDir}. */
  static final String FILE = "up.lock";

  /**
   * The locks this process holds, by file: they stay reachable for as long as the process lives (a
   * channel the garbage collector closed would release its lock). A second acquire in this process
   * is refused from here without opening the file: a lock of the operating system belongs to the
   * process, and closing any other descriptor of the file in it would release the lock.
   */
  private static final Map<Path, UpLock> HELD = new HashMap<>();

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private UpLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock of the checkout {@code env} names ({@code FEEDRANK_HOME}) for this process and
   * writes its pid in the file.
   *
   * @throws IllegalStateException naming the holder's pid when another up, of this process or
   *     another, holds it
   * @throws UncheckedIOException when the file cannot be created or locked
   */
  static UpLock acquire(Map<String, String> env) {
    return acquire(
        Endpoints.stateDir(env).resolve(FILE),
        "the ./feedrank up that runs from this checkout; released when it stops",
        UpLock::held);
  }

  /**
   * Takes the lock on {@code file} for this process and writes its pid in it, under {@code
   * comment}.
   *
   * @param refusal the exception for a lock another holder, of this process or another, has, from
   *     the holder's pid (null when it is unknown)
   * @throws UncheckedIOException when the file cannot be created or locked
   */
  static UpLock acquire(Path lockFile, String comment, Function<String, RuntimeException> refusal) {
    Path file = lockFile.toAbsolutePath().normalize();
    synchronized (HELD) {
      if (HELD.containsKey(file)) {
        throw refusal.apply(Long.toString(ProcessHandle.current().pid()));
      }
      FileChannel channel = null;
      try {
        Files.createDirectories(file.getParent());
        channel =
            FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = tryLock(channel);
        if (lock == null) {
          String pid = holder(channel);
          channel.close();
          throw refusal.apply(pid);
        }
        Properties me = new Properties();
        me.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        me.setProperty("started", Instant.now().toString());
        StringWriter text = new StringWriter();
        me.store(text, comment);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.ISO_8859_1)), 0);
        UpLock held = new UpLock(file, channel, lock);
        HELD.put(file, held);
        return held;
      } catch (IOException e) {
        closeQuietly(channel);
        throw new UncheckedIOException("cannot lock " + file, e);
      } catch (RuntimeException e) {
        closeQuietly(channel);
        throw e;
      }
    }
  }

  /**
   * Whether a process holds the lock on {@code lockFile}: its up runs. Probed, in another process,
   * with a shared lock taken and released at once (a read suffices, and a lock held conflicts with
   * it; an up starting in those microseconds asks again, {@link #tryLock}); in this one from {@link
   * #HELD}, without opening the file, a descriptor of which closed would release this process's
   * lock. A file that cannot be read counts as held, leaving the decision to what else is known.
   */
  static boolean isHeld(Path lockFile) {
    Path file = lockFile.toAbsolutePath().normalize();
    synchronized (HELD) {
      if (HELD.containsKey(file)) {
        return true;
      }
      if (!Files.exists(file)) {
        return false;
      }
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        FileLock probe = channel.tryLock(0, Long.MAX_VALUE, true);
        if (probe == null) {
          return true;
        }
        probe.release();
        return false;
      } catch (OverlappingFileLockException e) {
        return true; // held by this JVM through another channel (not one of ours)
      } catch (NoSuchFileException e) {
        return false;
      } catch (IOException e) {
        return true;
      }
    }
  }

  /**
   * The lock, or null when another holds it. A command probing whether an up runs ({@link #isHeld})
   * holds a shared lock for microseconds: a lock refused is asked for again over 100 ms before the
   * up or demo starting now is refused as if another one ran.
   */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    for (int attempt = 0; ; attempt++) {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        return null; // held by this JVM through another channel (not one of ours)
      }
      if (lock != null || attempt == 10) {
        return lock;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
  }

  /** The holder's pid as it wrote it, through the channel already open, or null. */
  private static String holder(FileChannel channel) {
    try {
      ByteBuffer b = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
      channel.read(b, 0);
      Properties p = new Properties();
      p.load(new StringReader(new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1)));
      return p.getProperty("pid");
    } catch (IOException | RuntimeException e) {
      return null; // not written yet, or unreadable (a lock that is mandatory on this system)
    }
  }

  private static RuntimeException held(String pid) {
    return new IllegalStateException(
        "another ./feedrank up"
            + (pid == null ? "" : " (pid " + pid + ")")
            + " is running from this checkout; other commands use it by themselves."
            + " Stop it first to start another");
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

  /** Releases the lock (the file stays, for the next up to overwrite). */
  @Override
  public void close() {
    synchronized (HELD) {
      HELD.remove(file);
      try {
        if (lock.isValid()) {
          lock.release();
        }
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot release " + file, e);
      }
    }
  }
}
