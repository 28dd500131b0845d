package io.feedrank.cli;

import java.nio.file.Path;
import java.util.Map;

/** The environment a command test resolves its endpoints from: a local stack's, made up. */
final class TestEnvironment {
  private TestEnvironment() {}

  static Map<String, String> of(Path home) {
    return Map.of(
        "FEEDRANK_HOME",
        home.toString(),
        Endpoints.ENV_BOOTSTRAP,
        "127.0.0.1:9092",
        Endpoints.ENV_REGISTRY,
        "http://127.0.0.1:8081/apis/ccompat/v7",
        Endpoints.ENV_REDIS,
        "redis://127.0.0.1:6379");
  }
}
