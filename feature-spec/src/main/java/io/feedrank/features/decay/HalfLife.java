package io.feedrank.features.decay;

import java.time.Duration;

/** The half-lives of every rolling feature (DESIGN §3), with the suffix used in feature names. */
public enum HalfLife {
  ONE_HOUR(Duration.ofHours(1), "1h"),
  ONE_DAY(Duration.ofDays(1), "1d"),
  SEVEN_DAYS(Duration.ofDays(7), "7d");

  private final long millis;
  private final String suffix;

  HalfLife(Duration d, String suffix) {
    this.millis = d.toMillis();
    this.suffix = suffix;
  }

  public long millis() {
    return millis;
  }

  /** Feature-name suffix, e.g. {@code clicks_1d}. */
  public String suffix() {
    return suffix;
  }
}
