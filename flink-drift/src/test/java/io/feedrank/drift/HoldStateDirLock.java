package io.feedrank.drift;

import java.nio.file.Path;

/**
 * A process that holds the lock of the state directory {@code args[0]} (as a running {@code
 * ./feedrank drift} does) until its standard input ends; prints {@code held} once it does.
 */
public final class HoldStateDirLock {
  private HoldStateDirLock() {}

  public static void main(String[] args) throws Exception {
    try (StateDirLock lock = StateDirLock.acquire(Path.of(args[0]), "group-of-the-first")) {
      System.out.println("held");
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the test closes our input, or kills us
      }
    }
  }
}
