package io.feedrank.streams.validation;

/** Why an input record went to the dead-letter topic; the {@code error_code} of a DeadLetter. */
public enum ErrorCode {
  /** Not Confluent-wire-format Avro of a known, compatible schema. */
  DESERIALIZATION,
  /** No key, or a key that is not the event's user_id as an 8-byte long (breaks partitioning). */
  KEY_MISMATCH,
  MISSING_INTERACTION_ID,
  NEGATIVE_USER_ID,
  NEGATIVE_ITEM_ID,
  DWELL_OUT_OF_RANGE,
  /** Further ahead of the partition's stream time than allowed. */
  EVENT_TIME_IN_FUTURE,
  /** Further behind the partition's stream time than allowed. */
  EVENT_TIME_TOO_OLD
}
