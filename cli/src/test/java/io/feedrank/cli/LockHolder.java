package io.feedrank.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another process holding a lock as {@link UpLock} takes it: locks the file its argument names,
 * writes its pid in it, prints {@code locked}, and holds it until its input ends.
 */
public final class LockHolder {
  private LockHolder() {}

  public static void main(String[] args) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            Path.of(args[0]),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      channel.lock();
      String pid = "pid=" + ProcessHandle.current().pid() + "\n";
      channel.write(ByteBuffer.wrap(pid.getBytes(StandardCharsets.ISO_8859_1)), 0);
      System.out.println("locked");
      System.out.flush();
      while (System.in.read() >= 0) {
        // held until the test closes this process's input (or ends it)
      }
    }
  }
}
