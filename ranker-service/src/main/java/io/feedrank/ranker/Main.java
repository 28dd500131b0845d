package io.feedrank.ranker;

import java.util.Map;

/** Starts the ranker from a configuration map (keys: {@link RankerConfig#from}). */
public final class Main {

  public static RankerApp start(Map<String, String> config) throws Exception {
    return RankerApp.start(RankerConfig.from(config));
  }

  private Main() {}
}
