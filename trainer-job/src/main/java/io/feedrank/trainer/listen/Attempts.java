package io.feedrank.trainer.listen;

import io.feedrank.trainer.RefusedException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How often a retrain command's run is tried: again after a failure (a schema registry or broker
 * away for longer than the clients wait, an artifact store that cannot be written), after {@code
 * backoff}, doubled each time (at most an hour), until {@code attempts} attempts have failed. Not
 * after a refusal (waiting does not change the data), a shutdown (the command runs at the next
 * start), or a run that wrote to the registry before it failed (it decided: run again, it would
 * decide twice).
 */
public final class Attempts {
  private static final Logger log = LoggerFactory.getLogger(Attempts.class);

  /** One run of the command; throws what the run threw. */
  public interface Run {
    void run();
  }

  /** Waits between two runs (interruptible: a shutdown ends the wait). */
  public interface Pause {
    void sleep(Duration d) throws InterruptedException;
  }

  private final int attempts;
  private final Duration backoff;
  private final Pause pause;

  public Attempts(int attempts, Duration backoff, Pause pause) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1, got " + attempts);
    }
    this.attempts = attempts;
    this.backoff = backoff;
    this.pause = pause;
  }

  /** Whether a command with {@code failed} failed runs has no attempt left. */
  public boolean exhausted(long failed) {
    return failed >= attempts;
  }

  /**
   * Runs command {@code commandId}, whose runs failed {@code failedBefore} times before (in an
   * earlier process), until one does not fail or no attempt is left; {@code decided} says whether a
   * run of it has written to the registry, and is asked after each wait, before the next run (the
   * broker that failed the run may be back by then). When it cannot tell (it throws: the broker is
   * still away), that attempt counts as failed without a run: a run that may have decided is not
   * run again before the registry says it did not. Throws what the last run threw.
   */
  public void run(String commandId, long failedBefore, Run run, BooleanSupplier decided)
      throws InterruptedException {
    Duration wait = backoff.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : backoff;
    long attempt = failedBefore + 1;
    while (true) {
      RuntimeException failure;
      try {
        run.run();
        return;
      } catch (RefusedException | CancellationException e) {
        throw e; // waiting does not change the data; a shutdown
      } catch (RuntimeException e) {
        failure = e;
      }
      boolean ran = true;
      while (true) {
        if (Thread.currentThread().isInterrupted() || attempt >= attempts) {
          throw failure;
        }
        if (ran) {
          log.warn(
              "trainer: command {}: attempt {} of at most {} failed ({}); trying again in {} s",
              commandId,
              attempt,
              attempts,
              failure.toString(),
              wait.toSeconds());
        } else {
          log.warn(
              "trainer: command {}: asking the registry again in {} s",
              commandId,
              wait.toSeconds());
        }
        ran = false;
        pause.sleep(wait);
        wait = wait.multipliedBy(2).compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait.multipliedBy(2);
        attempt++;
        boolean wrote;
        try {
          wrote = decided.getAsBoolean();
        } catch (RuntimeException e) {
          log.warn(
              "trainer: command {}: cannot tell whether an earlier run wrote to the registry"
                  + " ({}); attempt {} counts as failed",
              commandId,
              e.toString(),
              attempt);
          continue;
        }
        if (wrote) {
          log.warn(
              "trainer: command {}: a failed run of it wrote to the registry (it decided); not"
                  + " run again",
              commandId);
          throw failure;
        }
        break;
      }
    }
  }

  /** The longest wait between two runs. */
  static final Duration MAX_WAIT = Duration.ofHours(1);
}
