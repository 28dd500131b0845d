package io.feedrank.trainer.train;

/**
 * PyTorch's process-wide settings, which DJL reads once when the engine loads: intra-op threads
 * (the training machine's cores; inter-op 1), and offline mode (the native library comes from the
 * {@code pytorch-native-cpu} jar, never from the network). Call before the first training.
 */
public final class Torch {
  private Torch() {}

  public static void configure(int threads) {
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
  }
}
