package io.feedrank.avro.registry;

/**
 * A schema registry call failed. Carries the HTTP status and the registry's own error code and
 * message when the registry answered (status 0 when it could not be reached).
 */
public class SchemaRegistryException extends RuntimeException {
  private final int status;
  private final int errorCode;

  public SchemaRegistryException(String message, int status, int errorCode, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** HTTP status, or 0 when no answer came back. */
  public int status() {
    return status;
  }

  /** The registry's {@code error_code} (e.g. 40403 unknown schema id, 409 incompatible), or -1. */
  public int errorCode() {
    return errorCode;
  }

  /** True when the registry said the id, subject or version does not exist. */
  public boolean isNotFound() {
    return status == 404;
  }

  /**
   * True when the registry answered with a schema of another type (JSON Schema, Protobuf), or with
   * one whose references it cannot give: the id exists, and whatever names it is not an Avro record
   * this platform can read (a reference to a subject version the registry does not have, or whose
   * text does not parse; the message names the reference). Avro text without references this client
   * cannot parse is not this: that may be the client's limit (a stricter parser), and skipping
   * every record of it would lose valid updates.
   */
  public boolean isUnusableSchema() {
    return status == UNUSABLE_SCHEMA;
  }

  /**
   * The status of {@link #isUnusableSchema}: not an HTTP status (the registry answered 200), so
   * that it is told apart from a registry that could not be asked.
   */
  public static final int UNUSABLE_SCHEMA = -2;

  /** True when the registry refused a schema as incompatible. */
  public boolean isIncompatible() {
    return status == 409;
  }
}
