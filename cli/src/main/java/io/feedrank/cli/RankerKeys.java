package io.feedrank.cli;

import io.feedrank.ranker.RankerConfig;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code --ranker-config KEY=VALUE} keys of a command that starts a ranker later ({@code up},
 * {@code bench ranker}), checked before it starts anything else: a misspelt key would otherwise
 * surface after a minute of starting the stack.
 */
public final class RankerKeys {
  private RankerKeys() {}

  /**
   * Reads {@code keys} as the ranker will, with stand-ins for what the command sets as it starts
   * (endpoints, artifact store, port); returns the configuration read, those stand-ins in it.
   *
   * @throws ParameterException naming {@code --ranker-config} and what the ranker refused
   */
  public static RankerConfig check(CommandSpec spec, Map<String, String> keys) {
    Map<String, String> r = new HashMap<>();
    r.put("bootstrap.servers", "127.0.0.1:9092");
    r.put("schema.registry.url", "http://127.0.0.1:8081");
    r.put("redis.uri", "redis://127.0.0.1:6379");
    r.put("artifact.store", "artifacts");
    r.putAll(keys);
    r.put("port", "0");
    try {
      return RankerConfig.from(r);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--ranker-config: " + e.getMessage());
    }
  }
}
