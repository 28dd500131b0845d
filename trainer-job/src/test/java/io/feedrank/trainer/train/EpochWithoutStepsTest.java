package io.feedrank.trainer.train;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.trainer.SimData;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.data.Standardization;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An epoch that takes no training step (every batch too small for BatchNorm, here one training row)
 * fails the training: it returned the random initial network, with a training loss of 0 and a
 * validation AUC early stopping kept.
 */
class EpochWithoutStepsTest {
  static final Hyperparameters HYPER =
      Hyperparameters.defaults().withEpochs(2, 2).withBuckets(2_000, 6_000);

  @Test
  void anEpochWithoutATrainingStepFailsTheTraining() {
    Torch.configure(2);
    List<Example> examples = SimData.examples(2_000);
    Dataset one = Dataset.of(examples.subList(0, 1), HYPER.userBuckets(), HYPER.itemBuckets());
    Dataset validation =
        Dataset.of(examples.subList(1, 2_000), HYPER.userBuckets(), HYPER.itemBuckets());
    Standardization s = Standardization.fit(one);
    assertThatThrownBy(
            () ->
                NetworkTrainer.train(
                        Architecture.MLP,
                        HYPER,
                        new TrainInputs(one, s),
                        new TrainInputs(validation, s),
                        e -> {})
                    .close())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "mlp took no training step in epoch 1: 1 training rows, and a batch needs at least 2"
                + " (BatchNorm)");
  }
}
