package io.feedrank.trainer;

/** The data cannot make a model worth having (too little, one class): nothing is trained. */
public final class RefusedException extends RuntimeException {
  public RefusedException(String message) {
    super(message);
  }
}
