package io.feedrank.ranker.scoring;

/** A model that could not be loaded or could not score; the message says why. */
public final class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
