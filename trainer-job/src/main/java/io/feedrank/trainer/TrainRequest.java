package io.feedrank.trainer;

import io.feedrank.events.RetrainCommand;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.train.Architecture;
import java.util.List;

/**
 * One training run to do: the data range, the architectures to train (the logistic baseline is
 * always added), what triggered it and, for a retrain command, its id (recorded with the run, so a
 * restarted listener does not run a command twice) and the command itself (recorded whole: its
 * evidence outlives the delete-policy topics it came from only in the run's record).
 */
public record TrainRequest(
    DataRange range,
    List<Architecture> architectures,
    String trigger,
    String commandId,
    RetrainCommand command) {

  public TrainRequest {
    architectures = List.copyOf(architectures);
  }

  /** A run without a command's record ({@code commandId} may still name one). */
  public TrainRequest(
      DataRange range, List<Architecture> architectures, String trigger, String commandId) {
    this(range, architectures, trigger, commandId, null);
  }

  /** The run of retrain command {@code c}, over {@code range}. */
  public static TrainRequest of(
      RetrainCommand c, DataRange range, List<Architecture> architectures) {
    return new TrainRequest(
        range, architectures, "retrain-command " + c.getReason(), c.getCommandId(), c);
  }
}
