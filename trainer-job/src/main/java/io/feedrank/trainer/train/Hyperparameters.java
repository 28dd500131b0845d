package io.feedrank.trainer.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How networks are trained (DESIGN §4 defaults): Adam at {@code learningRate}, mini-batches of
 * {@code batchSize}, at most {@code maxEpochs} epochs with early stopping when validation AUC has
 * not improved for {@code patience} epochs (the best epoch's weights are kept), dropout after each
 * hidden layer of the MLP, an L2 penalty {@code embeddingL2} on the embedding rows a batch looks up
 * (the MLP memorises ids within an epoch or two without it).
 */
public record Hyperparameters(
    int[] mlpLayers,
    int[] towerLayers,
    int embeddingDim,
    int userBuckets,
    int itemBuckets,
    float dropout,
    float learningRate,
    int batchSize,
    int maxEpochs,
    int patience,
    float embeddingL2,
    float weightDecay,
    long seed) {

  public Hyperparameters {
    mlpLayers = mlpLayers.clone();
    towerLayers = towerLayers.clone();
    require(mlpLayers.length > 0 && Arrays.stream(mlpLayers).allMatch(s -> s > 0), "mlp layers");
    require(
        towerLayers.length > 0 && Arrays.stream(towerLayers).allMatch(s -> s > 0), "tower layers");
    require(embeddingDim > 0, "embedding dim must be > 0");
    require(userBuckets > 0 && itemBuckets > 0, "bucket counts must be > 0");
    require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)");
    require(learningRate > 0, "learning rate must be > 0");
    require(
        batchSize >= NetworkTrainer.MIN_BATCH_ROWS,
        "batch size must be >= " + NetworkTrainer.MIN_BATCH_ROWS + " (BatchNorm needs two rows)");
    require(maxEpochs > 0, "max epochs must be > 0");
    require(patience > 0, "patience must be > 0");
    require(embeddingL2 >= 0 && weightDecay >= 0, "regularisation must be >= 0");
  }

  public static Hyperparameters defaults() {
    return new Hyperparameters(
        new int[] {512, 256, 128},
        new int[] {256, 128, 64},
        32,
        50_000,
        100_000,
        0.3f,
        1e-3f,
        1024,
        10,
        2,
        1e-4f,
        0f,
        42L);
  }

  public Hyperparameters withEpochs(int maxEpochs, int patience) {
    return new Hyperparameters(
        mlpLayers,
        towerLayers,
        embeddingDim,
        userBuckets,
        itemBuckets,
        dropout,
        learningRate,
        batchSize,
        maxEpochs,
        patience,
        embeddingL2,
        weightDecay,
        seed);
  }

  public Hyperparameters withSeed(long seed) {
    return new Hyperparameters(
        mlpLayers,
        towerLayers,
        embeddingDim,
        userBuckets,
        itemBuckets,
        dropout,
        learningRate,
        batchSize,
        maxEpochs,
        patience,
        embeddingL2,
        weightDecay,
        seed);
  }

  public Hyperparameters withBuckets(int userBuckets, int itemBuckets) {
    return new Hyperparameters(
        mlpLayers,
        towerLayers,
        embeddingDim,
        userBuckets,
        itemBuckets,
        dropout,
        learningRate,
        batchSize,
        maxEpochs,
        patience,
        embeddingL2,
        weightDecay,
        seed);
  }

  /** As recorded with a run. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mlp_layers", Arrays.toString(mlpLayers));
    m.put("tower_layers", Arrays.toString(towerLayers));
    m.put("embedding_dim", embeddingDim);
    m.put("user_buckets", userBuckets);
    m.put("item_buckets", itemBuckets);
    m.put("dropout", dropout);
    m.put("learning_rate", learningRate);
    m.put("batch_size", batchSize);
    m.put("max_epochs", maxEpochs);
    m.put("patience", patience);
    m.put("embedding_l2", embeddingL2);
    m.put("weight_decay", weightDecay);
    m.put("seed", seed);
    return m;
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalArgumentException("hyperparameters: " + what);
    }
  }
}
