package io.feedrank.ranker;

import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Starts the ranker from a configuration map and runs it until the JVM is asked to stop. */
public final class Main {

  public static RankerApp start(Map<String, String> config) throws Exception {
    return RankerApp.start(RankerConfig.from(config));
  }

  /** Runs until SIGINT / SIGTERM, then drains and stops. */
  public static void runUntilStopped(Map<String, String> config) throws Exception {
    RankerApp app = start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.close();
                  stopped.countDown();
                },
                "ranker-shutdown"));
    stopped.await();
  }

  private Main() {}
}
