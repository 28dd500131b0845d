package io.feedrank.avro.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record names a schema id the registry answered 404 for. Usually the record is at fault (a
 * producer without the registry, bytes that are not the wire format), and it is dead-lettered or
 * skipped like any bad record; but a registry replica also answers 404 until it has read a schema
 * registered on another, so a reader that must not lose a record can wait a while ({@link
 * UnknownIdPatience}).
 */
public class UnknownSchemaIdException extends SerializationException {
  private static final long serialVersionUID = 1L;
  private final int schemaId;

  public UnknownSchemaIdException(int schemaId, String message, Throwable cause) {
    super(message, cause);
    this.schemaId = schemaId;
  }

  public int schemaId() {
    return schemaId;
  }

  /**
   * The one {@code t} is or was caused by (a consumer's {@code RecordDeserializationException}
   * holds the deserializer's exception as its cause), or null.
   */
  public static UnknownSchemaIdException in(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof UnknownSchemaIdException u) {
        return u;
      }
    }
    return null;
  }
}
