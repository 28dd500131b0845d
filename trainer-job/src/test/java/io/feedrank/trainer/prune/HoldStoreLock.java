package io.feedrank.trainer.prune;

import java.nio.file.Path;

/**
 * A process that holds the lock of the artifact store {@code args[0]} (as a running {@code
 * ./feedrank registry prune} does) until its standard input ends; prints {@code held} once it does.
 */
public final class HoldStoreLock {
  private HoldStoreLock() {}

  public static void main(String[] args) throws Exception {
    try (StoreLock lock = StoreLock.take(Path.of(args[0]))) {
      System.out.println("held");
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the test closes our input, or kills us
      }
    }
  }
}
