package io.feedrank.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.features.vector.ModelInputs;
import io.feedrank.trainer.SimData;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.TemporalSplit;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.export.ExportVerification;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Trains the three architectures with DJL on PyTorch on examples of the default simulator (the same
 * point-in-time maths the streams app runs) and checks them against the design goals, the baselines
 * and their ONNX exports. Small data, few epochs: a test, not the benchmark.
 */
class TrainingOnSimulatorTest {
  static final int EXAMPLES = 120_000;
  static final Hyperparameters HYPER =
      Hyperparameters.defaults().withEpochs(4, 1).withBuckets(20_000, 60_000);

  static Dataset test;
  static Dataset validation;
  static TrainInputs validationInputs;
  static TrainInputs testInputs;
  static Standardization standardization;
  static final Map<Architecture, TrainedNetwork> nets = new EnumMap<>(Architecture.class);
  static final Map<Architecture, float[]> scores = new EnumMap<>(Architecture.class);

  @BeforeAll
  static void train() {
    Torch.configure(2);
    TemporalSplit split = TemporalSplit.of(SimData.examples(EXAMPLES));
    Dataset train = Dataset.of(split.train(), HYPER.userBuckets(), HYPER.itemBuckets());
    validation = Dataset.of(split.validation(), HYPER.userBuckets(), HYPER.itemBuckets());
    test = Dataset.of(split.test(), HYPER.userBuckets(), HYPER.itemBuckets());
    standardization = Standardization.fit(train);
    TrainInputs trainInputs = new TrainInputs(train, standardization);
    validationInputs = new TrainInputs(validation, standardization);
    testInputs = new TrainInputs(test, standardization);
    for (Architecture a : Architecture.values()) {
      TrainedNetwork n = NetworkTrainer.train(a, HYPER, trainInputs, validationInputs, e -> {});
      nets.put(a, n);
      scores.put(a, n.predict(testInputs));
    }
  }

  @AfterAll
  static void close() {
    nets.values().forEach(TrainedNetwork::close);
  }

  @Test
  void theMlpBeatsPopularityAndMatchesTheLogisticBaseline() {
    double lr = Metrics.auc(scores.get(Architecture.LOGISTIC), test.label);
    double pop = Metrics.auc(Baselines.popularity(test), test.label);
    double mlp = Metrics.auc(scores.get(Architecture.MLP), test.label);
    double tt = Metrics.auc(scores.get(Architecture.TWO_TOWER), test.label);
    System.out.printf(
        "test AUC on %d held-out examples: mlp %.4f, two-tower %.4f, logistic %.4f, popularity %.4f%n",
        test.size, mlp, tt, lr, pop);
    assertThat(mlp).isGreaterThan(pop);
    // The simulator's click logit is a linear function of what the features measure (affinity,
    // quality, hour and device match), so a converged logistic regression is close to the best
    // possible model here and the MLP ties it: measured 0.7272 vs 0.7264 on 120k examples
    // (0.7257 vs 0.7249 before the std floor of the standardisation), 0.7385 vs 0.7390 on 200k. The
    // MLP must not lose more than noise to it.
    assertThat(mlp).isGreaterThan(lr - 0.005);
    // the two-tower sees no user x item-category feature (nothing of the pair may enter a tower)
    // and no item category input, so on this simulator it learns less than the MLP: it must learn
    // something, and the MLP must beat it
    assertThat(tt).isGreaterThan(0.6).isLessThan(mlp);
  }

  /**
   * Where ids repeat (1,000 users and 2,000 items, ~100 and ~50 examples each), the MLP's id
   * embeddings learn what the features do not say (a user's cluster, an item's latent quality) and
   * the MLP beats the logistic baseline.
   */
  @Test
  void withRepeatedIdsTheMlpBeatsTheLogisticBaseline() {
    TemporalSplit split = TemporalSplit.of(SimData.dense(100_000, 1_000, 2_000));
    Hyperparameters h = HYPER.withBuckets(4_000, 8_000);
    Dataset train = Dataset.of(split.train(), h.userBuckets(), h.itemBuckets());
    Dataset validation = Dataset.of(split.validation(), h.userBuckets(), h.itemBuckets());
    Dataset dense = Dataset.of(split.test(), h.userBuckets(), h.itemBuckets());
    Standardization s = Standardization.fit(train);
    TrainInputs tr = new TrainInputs(train, s);
    TrainInputs va = new TrainInputs(validation, s);
    TrainInputs te = new TrainInputs(dense, s);
    double mlp;
    double lr;
    try (TrainedNetwork n = NetworkTrainer.train(Architecture.MLP, h, tr, va, e -> {})) {
      mlp = Metrics.auc(n.predict(te), dense.label);
    }
    try (TrainedNetwork n = NetworkTrainer.train(Architecture.LOGISTIC, h, tr, va, e -> {})) {
      lr = Metrics.auc(n.predict(te), dense.label);
    }
    double pop = Metrics.auc(Baselines.popularity(dense), dense.label);
    System.out.printf(
        "dense population, %d held-out examples: mlp %.4f, logistic %.4f, popularity %.4f%n",
        dense.size, mlp, lr, pop);
    assertThat(mlp).isGreaterThan(lr).isGreaterThan(pop); // measured 0.7744 vs 0.7721, 0.6841
  }

  @Test
  void mlpReachesTheDesignGoals() {
    float[] s = scores.get(Architecture.MLP);
    double auc = Metrics.auc(s, test.label);
    double logLoss = Metrics.logLoss(s, test.label);
    var ranking = Metrics.ranking(s, test.label, test.userId, 10);
    System.out.printf(
        "mlp: AUC %.4f, log loss %.4f, P@10 %.4f, NDCG@10 %.4f over %d users%n",
        auc, logLoss, ranking.precisionAtK(), ranking.ndcgAtK(), ranking.users());
    assertThat(auc).isGreaterThan(0.70);
    assertThat(logLoss).isLessThan(0.5);
    assertThat(ranking.precisionAtK()).isGreaterThan(0.15);
  }

  @Test
  void earlyStoppingKeepsTheBestEpochsWeights() {
    for (TrainedNetwork n : nets.values()) {
      double best =
          n.epochs().stream().mapToDouble(NetworkTrainer.Epoch::validationAuc).max().orElseThrow();
      assertThat(n.epochs().get(n.bestEpoch() - 1).validationAuc()).isEqualTo(best);
      // scoring the validation rows again reproduces the best epoch's AUC, not the last one's
      double again = Metrics.auc(n.predict(validationInputs), validation.label);
      assertThat(again).as(n.architecture().id).isCloseTo(best, within(1e-9));
    }
  }

  @Test
  void onnxExportScoresLikeTheTrainingFrameworkForEveryArchitecture() {
    for (Architecture a : Architecture.values()) {
      TrainedNetwork n = nets.get(a);
      Map<String, byte[]> onnx = n.toOnnx(standardization, null, null);
      ExportVerification.Result r =
          ExportVerification.verify(onnx, test, scores.get(a), n.vectorDimension(), 1000, 1e-5);
      System.out.printf(
          "%s: %d rows, max |Δ| %.2e, towers %.2e%n",
          a.id, r.rows(), r.maxAbsDiff(), r.towerMaxAbsDiff());
      assertThat(r.rows()).isGreaterThanOrEqualTo(1000);
      assertThat(r.maxAbsDiff()).isLessThanOrEqualTo(1e-5);
      if (a == Architecture.TWO_TOWER) {
        assertThat(onnx).containsKeys(ModelInputs.ROLE_USER_TOWER, ModelInputs.ROLE_ITEM_TOWER);
        assertThat(r.towerMaxAbsDiff()).isLessThanOrEqualTo(1e-5);
      }
      // and the check does compare: one reference score moved by 1e-3 fails it, by that much
      float[] moved = scores.get(a).clone();
      moved[17] += 1e-3f;
      assertThatThrownBy(
              () -> ExportVerification.verify(onnx, test, moved, n.vectorDimension(), 1000, 1e-5))
          .isInstanceOf(ExportVerification.ExportMismatchException.class)
          .satisfies(
              e -> {
                java.util.regex.Matcher m =
                    java.util.regex.Pattern.compile("max \\|Δscore\\| (\\S+) >")
                        .matcher(e.getMessage());
                assertThat(m.find()).as(e.getMessage()).isTrue();
                // 1e-3 give or take the export's own difference (≤ 1e-5) and float rounding
                assertThat(Double.parseDouble(m.group(1)))
                    .isCloseTo(1e-3, org.assertj.core.api.Assertions.within(1.1e-5));
              });
    }
    // an export checked against another network's scores is refused
    Map<String, byte[]> mlp = nets.get(Architecture.MLP).toOnnx(standardization, null, null);
    assertThatThrownBy(
            () ->
                ExportVerification.verify(
                    mlp, test, scores.get(Architecture.LOGISTIC), 0, 1000, 1e-5))
        .isInstanceOf(ExportVerification.ExportMismatchException.class);
  }
}
