package io.feedrank.streams;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The features app in a process of its own, for tests that kill it: args[0] is a properties file.
 */
public final class FeaturesChildApp {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Paths.get(args[0]))) {
      p.load(in);
    }
    Map<String, String> config = new HashMap<>();
    p.stringPropertyNames().forEach(k -> config.put(k, p.getProperty(k)));
    Main.start(FeaturesConfig.from(config));
    System.out.println("features child started");
    new CountDownLatch(1).await(); // until killed
  }

  private FeaturesChildApp() {}
}
