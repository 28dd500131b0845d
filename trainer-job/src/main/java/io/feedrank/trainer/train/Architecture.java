package io.feedrank.trainer.train;

import java.util.Arrays;
import java.util.Locale;

/** What the trainer can train; the name is the one in {@code ModelVersion.architecture}. */
public enum Architecture {
  MLP("mlp"),
  TWO_TOWER("two_tower"),
  LOGISTIC("logistic");

  public final String id;

  Architecture(String id) {
    this.id = id;
  }

  public static Architecture of(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    for (Architecture a : values()) {
      if (a.id.equals(n)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "unknown architecture '"
            + name
            + "'; one of "
            + Arrays.stream(values()).map(a -> a.id).toList());
  }
}
