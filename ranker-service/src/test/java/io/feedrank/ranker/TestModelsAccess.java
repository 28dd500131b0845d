package io.feedrank.ranker;

/** {@link TestModels} for tests in other packages. */
public final class TestModelsAccess {
  public static byte[] mlp(long seed) {
    return TestModels.mlp(seed).onnx();
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
