package io.feedrank.streams;

import io.feedrank.avro.Topics;

/** The topics the app reads and writes (defaults: DESIGN §2; tests use copies). */
public record TopicNames(
    String interactions, String users, String items, String deadLetters, String trainingExamples) {
  public static TopicNames defaults() {
    return new TopicNames(
        Topics.INTERACTIONS,
        Topics.USERS,
        Topics.ITEMS,
        Topics.INTERACTIONS_DLQ,
        Topics.TRAINING_EXAMPLES);
  }

  /** Every name with {@code suffix} appended. */
  public TopicNames withSuffix(String suffix) {
    return new TopicNames(
        interactions + suffix,
        users + suffix,
        items + suffix,
        deadLetters + suffix,
        trainingExamples + suffix);
  }
}
