package io.feedrank.streams.redis;

import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Accepts feature writes and says when each has landed, so the caller can forget an entity only
 * once its write is durable in the store. {@link #of(FeatureWriter)} adapts a synchronous writer;
 * {@link AsyncFeatureWriter} is one.
 */
public interface FeatureSink {

  /**
   * Submits a batch; {@code landed} is called (possibly on another thread, possibly later) for each
   * write once it is in the store.
   *
   * @throws RuntimeException when the batch is refused now; nothing of it has landed
   */
  void submit(List<FeatureWrite> batch, Consumer<FeatureWrite> landed);

  /**
   * {@link #submit(List, Consumer)}, and {@code recreated} is called, after {@code landed}, for
   * each partial write that found its hash gone and created it ({@link
   * FeatureWriter#writeFindingRecreated}). By default it is never called.
   */
  default void submit(
      List<FeatureWrite> batch, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> recreated) {
    submit(batch, landed);
  }

  /** A synchronous writer: a write has landed when {@link FeatureWriter#write} returns. */
  static FeatureSink of(FeatureWriter writer) {
    if (writer instanceof FeatureSink sink) {
      return sink;
    }
    return new FeatureSink() {
      @Override
      public void submit(List<FeatureWrite> batch, Consumer<FeatureWrite> landed) {
        submit(batch, landed, w -> {});
      }

      @Override
      public void submit(
          List<FeatureWrite> batch,
          Consumer<FeatureWrite> landed,
          Consumer<FeatureWrite> recreated) {
        Set<String> gone = writer.writeFindingRecreated(batch);
        for (FeatureWrite w : batch) {
          landed.accept(w);
          if (gone.contains(w.key())) {
            recreated.accept(w);
          }
        }
      }
    };
  }
}
