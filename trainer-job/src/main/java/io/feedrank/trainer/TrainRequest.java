package io.feedrank.trainer;

import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.train.Architecture;
import java.util.List;

/**
 * One training run to do: the data range, the architectures to train (the logistic baseline is
 * always added), what triggered it and, for a retrain command, its id (recorded with the run, so a
 * restarted listener does not run a command twice).
 */
public record TrainRequest(
    DataRange range, List<Architecture> architectures, String trigger, String commandId) {

  public TrainRequest {
    architectures = List.copyOf(architectures);
  }
}
