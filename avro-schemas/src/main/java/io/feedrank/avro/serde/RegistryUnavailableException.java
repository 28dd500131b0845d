package io.feedrank.avro.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record could not be read because the schema registry did not give its writer schema: it could
 * not be reached, or answered with an error other than "no such id" (5xx and 429 after the client's
 * retries, a refused credential). The record is not at fault. A consumer that dead-letters or skips
 * undecodable records should let this one fail the read instead, so that the record is read again
 * once the registry answers — a registry outage must not empty a topic into its dead letters.
 */
public class RegistryUnavailableException extends SerializationException {
  private static final long serialVersionUID = 1L;

  public RegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether {@code t} is one or was caused by one: a consumer's {@code
   * RecordDeserializationException}, a Kafka Streams {@code StreamsException}, hold the
   * deserializer's exception as a cause.
   */
  public static boolean isCauseOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RegistryUnavailableException) {
        return true;
      }
    }
    return false;
  }
}
