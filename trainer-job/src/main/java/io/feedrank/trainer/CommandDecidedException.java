package io.feedrank.trainer;

import java.util.concurrent.CancellationException;

/**
 * A run of a retrain command stopped at its registry write because another run of the same command
 * has registered its versions meanwhile (the group moved the command to this listener just as the
 * other committed its write): the command is answered, so this run is moot, not refused. It is
 * recorded CANCELLED, with the other run's versions in its error, and the listener commits past the
 * command: REFUSED would read as a command left unanswered ({@code TrainerRunsFailing}).
 */
public final class CommandDecidedException extends CancellationException {
  public CommandDecidedException(String message) {
    super(message);
  }
}
