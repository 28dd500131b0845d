package io.feedrank.trainer.train;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.feedrank.trainer.eval.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one network with DJL on PyTorch: shuffled mini-batches, binary cross-entropy on logits
 * plus the embedding L2 term, Adam; after every epoch the validation AUC decides whether this epoch
 * is the best so far (its weights are kept) and whether to stop (no gain for {@code patience}
 * epochs). The returned network holds the best epoch's weights. An epoch that diverges (a training
 * loss or a validation score that is not finite) ends training at the best epoch before it, as a
 * lack of gain would; one that diverges before any epoch was kept fails the training, saying so. An
 * epoch that takes no step at all (fewer than {@link #MIN_BATCH_ROWS} training rows) fails it too:
 * the network would be its random initialisation.
 */
public final class NetworkTrainer {
  private static final Logger log = LoggerFactory.getLogger(NetworkTrainer.class);
  private static final int EVAL_BATCH = 8192;

  /**
   * The fewest rows a training batch has: BatchNorm normalises over a batch's rows and cannot over
   * one, so a smaller batch (a last one of a single row) is skipped. With {@code batch.size} 1
   * every batch was, and the network kept its random initial weights.
   */
  public static final int MIN_BATCH_ROWS = 2;

  /** One epoch's figures, as tracked with the run. */
  public record Epoch(
      int epoch,
      double trainLoss,
      double validationAuc,
      double validationLogLoss,
      long examples,
      long millis) {}

  private NetworkTrainer() {}

  /**
   * The engine's 32-bit seed for the 64-bit {@code seed}. A seed that fits in an int, the default
   * 42 and negative ones included, is its own engine seed, as with the plain cast of earlier
   * builds, so their runs still reproduce; a larger one has both halves mixed, so seeds that differ
   * only in their high 32 bits initialise different networks (the cast kept the low half only).
   */
  static int engineSeed(long seed) {
    return seed == (int) seed ? (int) seed : (int) (seed ^ (seed >>> 32));
  }

  public static TrainedNetwork train(
      Architecture arch,
      Hyperparameters h,
      TrainInputs train,
      TrainInputs validation,
      Consumer<Epoch> onEpoch) {
    return train(arch, h, train, validation, onEpoch, net -> {});
  }

  /**
   * {@link #train}, with {@code afterEpoch} told of the network after each epoch's steps, before
   * its validation (for tests: a way to make an epoch diverge).
   */
  static TrainedNetwork train(
      Architecture arch,
      Hyperparameters h,
      TrainInputs train,
      TrainInputs validation,
      Consumer<Epoch> onEpoch,
      Consumer<TrainedNetwork> afterEpoch) {
    Engine.getInstance().setRandomSeed(engineSeed(h.seed()));
    Block block = Blocks.of(arch, h);
    Model model = Model.newInstance("feedrank-" + arch.id, "PyTorch");
    model.setBlock(block);
    Loss bce = Loss.sigmoidBinaryCrossEntropyLoss();
    // the logistic baseline is convex and takes 10x the step: with the networks' step it is still
    // converging when early stopping looks at it, and a weak baseline flatters every model
    float rate = arch == Architecture.LOGISTIC ? 10 * h.learningRate() : h.learningRate();
    Optimizer adam =
        Optimizer.adam()
            .optLearningRateTracker(Tracker.fixed(rate))
            .optWeightDecays(h.weightDecay())
            .build();
    Trainer trainer = model.newTrainer(new DefaultTrainingConfig(bce).optOptimizer(adam));
    TrainedNetwork net = new TrainedNetwork(arch, h, model, block, trainer);
    try {
      trainer.initialize(TrainInputs.shapes(h.batchSize()));
      fit(net, bce, h, train, validation, onEpoch, afterEpoch);
      return net;
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
  }

  private static void fit(
      TrainedNetwork net,
      Loss bce,
      Hyperparameters h,
      TrainInputs train,
      TrainInputs validation,
      Consumer<Epoch> onEpoch,
      Consumer<TrainedNetwork> afterEpoch) {
    Trainer trainer = net.trainer;
    Random random = new Random(h.seed());
    int[] order = new int[train.size];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    double bestAuc = Double.NEGATIVE_INFINITY;
    int sinceBest = 0;
    List<Epoch> epochs = new ArrayList<>();
    for (int epoch = 1; epoch <= h.maxEpochs(); epoch++) {
      long t0 = System.nanoTime();
      shuffle(order, random);
      double lossSum = 0;
      int batches = 0;
      for (int from = 0; from < order.length; from += h.batchSize()) {
        int to = Math.min(order.length, from + h.batchSize());
        if (to - from < MIN_BATCH_ROWS) {
          continue;
        }
        if (Thread.currentThread().isInterrupted()) {
          // a shutdown: stop at the next batch, not after the remaining epochs (the flag stays
          // set, so the caller knows why)
          throw new CancellationException("training interrupted in epoch " + epoch);
        }
        try (NDManager bm = trainer.getManager().newSubManager()) {
          NDList x = train.batch(bm, order, from, to);
          NDArray y = train.labels(bm, order, from, to);
          try (GradientCollector gc = trainer.newGradientCollector()) {
            NDList out = trainer.forward(x);
            NDArray loss = bce.evaluate(new NDList(y), new NDList(out.get(0)));
            lossSum += loss.getFloat();
            if (h.embeddingL2() > 0) {
              loss = loss.add(out.get(1).mul(h.embeddingL2()));
            }
            gc.backward(loss);
          }
          trainer.step();
        }
        batches++;
      }
      if (batches == 0) {
        // its loss would read 0 and early stopping would keep the random initial weights
        throw new IllegalStateException(
            net.architecture.id
                + " took no training step in epoch "
                + epoch
                + ": "
                + order.length
                + " training rows, and a batch needs at least "
                + MIN_BATCH_ROWS
                + " (BatchNorm)");
      }
      afterEpoch.accept(net);
      float[] scores = net.predict(validation);
      double trainLoss = lossSum / Math.max(1, batches);
      boolean scoresFinite = finite(scores);
      if (!Double.isFinite(trainLoss) || !scoresFinite) {
        String what =
            "training loss " + trainLoss + (scoresFinite ? "" : ", validation scores not finite");
        if (net.bestEpoch() == 0) {
          throw new IllegalStateException(
              net.architecture.id
                  + " diverged in epoch "
                  + epoch
                  + " ("
                  + what
                  + ") before any epoch could be kept; a lower learning rate may help");
        }
        log.warn(
            "trainer: {} diverged in epoch {} ({}): stops, keeps epoch {}",
            net.architecture.id,
            epoch,
            what,
            net.bestEpoch());
        break;
      }
      double auc = Metrics.auc(scores, validation.label);
      double logLoss = Metrics.logLoss(scores, validation.label);
      Epoch e =
          new Epoch(
              epoch, trainLoss, auc, logLoss, order.length, (System.nanoTime() - t0) / 1_000_000);
      epochs.add(e);
      onEpoch.accept(e);
      log.info(
          "trainer: {} epoch {}: train loss {}, validation AUC {}, log loss {} ({} ms)",
          net.architecture.id,
          epoch,
          String.format("%.4f", e.trainLoss()),
          String.format("%.4f", auc),
          String.format("%.4f", logLoss),
          e.millis());
      if (auc > bestAuc) {
        bestAuc = auc;
        sinceBest = 0;
        net.snapshot(epoch, auc);
      } else if (++sinceBest >= h.patience()) {
        log.info(
            "trainer: {} stops early after epoch {}: no AUC gain for {} epochs, keeps epoch {}",
            net.architecture.id,
            epoch,
            sinceBest,
            net.bestEpoch());
        break;
      }
    }
    net.restoreBest();
    net.epochs = List.copyOf(epochs);
  }

  private static boolean finite(float[] scores) {
    for (float x : scores) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  private static void shuffle(int[] a, Random r) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  static int evalBatch() {
    return EVAL_BATCH;
  }
}
