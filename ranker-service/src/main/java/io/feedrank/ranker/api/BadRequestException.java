package io.feedrank.ranker.api;

/** A request the service refuses with {@code 400}; names the offending field. */
public final class BadRequestException extends RuntimeException {
  private final String field;

  public BadRequestException(String field, String message) {
    super(message, null, false, false);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
