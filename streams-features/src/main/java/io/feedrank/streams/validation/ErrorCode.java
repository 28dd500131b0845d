package io.feedrank.streams.validation;

/** Why an input record went to the dead-letter topic; the {@code error_code} of a DeadLetter. */
public enum ErrorCode {
  /** Not Confluent-wire-format Avro of a known, compatible schema. */
  DESERIALIZATION,
  /** No key, or a key that is not the event's user_id as an 8-byte long (breaks partitioning). */
  KEY_MISMATCH,
  /**
   * On another partition than the one Kafka's Java producer picks for its key (murmur2), where the
   * user's state is: a producer with another partitioner (librdkafka's default CRC32, Sarama's
   * FNV-1a) or an explicit partition would split a user's state between two tasks.
   */
  WRONG_PARTITION,
  MISSING_INTERACTION_ID,
  /**
   * An interaction_id or request_id longer than {@link EventValidator#MAX_ID_CHARS}: ids are UUIDs
   * or the ranker's request ids (at most as long), and an unbounded string would make the training
   * example it is copied into too large for the topic.
   */
  ID_TOO_LONG,
  NEGATIVE_USER_ID,
  NEGATIVE_ITEM_ID,
  DWELL_OUT_OF_RANGE,
  /** Further ahead of the partition's stream time than allowed. */
  EVENT_TIME_IN_FUTURE,
  /** Further behind the partition's stream time than allowed. */
  EVENT_TIME_TOO_OLD
}
