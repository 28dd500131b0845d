package io.feedrank.loadtest.config;

import java.time.Duration;

/**
 * A load test's settings, from system properties (so the same simulation runs as a smoke test, a
 * benchmark or a soak): {@code target} [http://localhost:8080], {@code api.key} [none: no header],
 * {@code candidates} [100; 10, 100 or 1000 in the benchmarks], {@code top.k} [10], {@code rate}
 * [requests/s, 100], {@code max.rate} [ramp's end, 2000], {@code duration} [seconds, 60], {@code
 * ramp.duration} [seconds, 120], {@code spike.factor} [10], {@code soak.duration} [seconds, 3600],
 * {@code assert.p99.ms} [50], {@code assert.error.percent} [0], {@code users} / {@code items} [2000
 * / 5000, the populations of ./feedrank up], {@code seed} [1].
 */
public record LoadConfig(
    String target,
    String apiKey,
    int candidates,
    int topK,
    double rate,
    double maxRate,
    Duration duration,
    Duration rampDuration,
    double spikeFactor,
    Duration soakDuration,
    int p99Millis,
    double maxErrorPercent,
    int users,
    int items,
    long seed) {

  public static LoadConfig fromSystemProperties() {
    return new LoadConfig(
        System.getProperty("target", "http://localhost:8080"),
        System.getProperty("api.key", ""),
        Integer.getInteger("candidates", 100),
        Integer.getInteger("top.k", 10),
        Double.parseDouble(System.getProperty("rate", "100")),
        Double.parseDouble(System.getProperty("max.rate", "2000")),
        Duration.ofSeconds(Long.getLong("duration", 60)),
        Duration.ofSeconds(Long.getLong("ramp.duration", 120)),
        Double.parseDouble(System.getProperty("spike.factor", "10")),
        Duration.ofSeconds(Long.getLong("soak.duration", 3600)),
        Integer.getInteger("assert.p99.ms", 50),
        Double.parseDouble(System.getProperty("assert.error.percent", "0")),
        Integer.getInteger("users", 2_000),
        Integer.getInteger("items", 5_000),
        Long.getLong("seed", 1));
  }

  public LoadConfig {
    if (candidates < 1 || candidates > 1_000) {
      throw new IllegalArgumentException("candidates must be within 1..1000, got " + candidates);
    }
    if (!(rate > 0)) {
      throw new IllegalArgumentException("rate must be > 0, got " + rate);
    }
  }
}
