package io.feedrank.ranker;

/** {@link TestModels} for tests in other packages. */
public final class TestModelsAccess {
  public static byte[] mlp(long seed) {
    return TestModels.mlp(seed).onnx();
  }

  /**
   * A logistic model that claims, in {@code feedrank.per_request_inputs}, to take the user's side
   * as one row, though its graph concatenates every input row by row.
   */
  public static byte[] logisticClaimingPerRequest(long seed) throws Exception {
    return TestModels.logistic(seed).withPerRequest("user,context").onnx();
  }

  /** See {@link TestModels#largeMlp}. */
  public static byte[] largeMlp(long seed, int buckets) {
    return TestModels.largeMlp(seed, buckets).onnx();
  }

  public static byte[] userTower(long seed) {
    return TestModels.twoTower(seed).userTower();
  }

  public static byte[] itemTower(long seed) {
    return TestModels.twoTower(seed).itemTower();
  }

  public static byte[] fullTwoTower(long seed) {
    return TestModels.twoTower(seed).full();
  }

  private TestModelsAccess() {}
}
