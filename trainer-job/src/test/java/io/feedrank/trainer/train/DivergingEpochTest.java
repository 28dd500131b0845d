package io.feedrank.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.trainer.SimData;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.TemporalSplit;
import io.feedrank.trainer.eval.Metrics;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An epoch that diverges (here: every weight set to NaN after the epoch's steps, as a blow-up
 * leaves them) ends training at the best epoch before it, whose weights score the validation split
 * as they did when that epoch was measured. It once failed the run on the NaN scores. One that
 * diverges before any epoch was kept fails, saying so.
 */
class DivergingEpochTest {
  static final Hyperparameters HYPER =
      Hyperparameters.defaults().withEpochs(5, 5).withBuckets(2_000, 6_000);
  static TrainInputs train;
  static TrainInputs validation;
  static Dataset validationSet;

  @BeforeAll
  static void data() {
    Torch.configure(2);
    TemporalSplit split = TemporalSplit.of(SimData.examples(30_000));
    Dataset t = Dataset.of(split.train(), HYPER.userBuckets(), HYPER.itemBuckets());
    validationSet = Dataset.of(split.validation(), HYPER.userBuckets(), HYPER.itemBuckets());
    Standardization s = Standardization.fit(t);
    train = new TrainInputs(t, s);
    validation = new TrainInputs(validationSet, s);
  }

  private static void poison(TrainedNetwork net) {
    net.block().getParameters().values().forEach(p -> p.getArray().muli(Float.NaN));
  }

  @Test
  void anEpochThatDivergesEndsTrainingAtTheBestEpochBeforeIt() {
    List<NetworkTrainer.Epoch> epochs = new ArrayList<>();
    try (TrainedNetwork net =
        NetworkTrainer.train(
            Architecture.MLP,
            HYPER,
            train,
            validation,
            epochs::add,
            n -> {
              if (epochs.size() == 2) {
                poison(n); // epoch 3
              }
            })) {
      assertThat(epochs).extracting(NetworkTrainer.Epoch::epoch).containsExactly(1, 2);
      NetworkTrainer.Epoch best =
          epochs.get(0).validationAuc() >= epochs.get(1).validationAuc()
              ? epochs.get(0)
              : epochs.get(1);
      assertThat(net.bestEpoch()).isEqualTo(best.epoch());
      float[] scores = net.predict(validation);
      assertThat(Metrics.auc(scores, validationSet.label))
          .isCloseTo(best.validationAuc(), within(1e-6));
    }
  }

  @Test
  void anEpochThatDivergesBeforeAnyWasKeptFailsSayingSo() {
    assertThatThrownBy(
            () ->
                NetworkTrainer.train(
                        Architecture.MLP,
                        HYPER,
                        train,
                        validation,
                        e -> {},
                        DivergingEpochTest::poison)
                    .close())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("mlp diverged in epoch 1")
        .hasMessageContaining("before any epoch could be kept");
  }
}
