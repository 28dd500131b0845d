package io.feedrank.cli;

import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/**
 * {@code ./feedrank up} whose start blocks until its thread is interrupted, as the first model's
 * training does: prints {@code starting} once it blocks and {@code start interrupted} once
 * interrupted.
 */
public final class UpWithABlockedStart {
  private UpWithABlockedStart() {}

  public static void main(String[] args) {
    UpCommand up = new UpCommand();
    up.start =
        (options, progress) -> {
          System.out.println("starting");
          System.out.flush();
          try {
            new CountDownLatch(1).await();
          } catch (InterruptedException e) {
            System.out.println("start interrupted");
            System.out.flush();
            throw e;
          }
          throw new AssertionError("a latch nobody counts down was counted down");
        };
    System.exit(new CommandLine(up).execute(args));
  }
}
