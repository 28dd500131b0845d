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
   * {@link #submit(List, Consumer)}, but {@code lost} is called instead of {@code landed} for each
   * partial write that found its hash without the entity's state and set nothing ({@link
   * FeatureWriter#writeFindingLost}): it has not landed, and the entity must be written whole. By
   * default it is never called.
   */
  default void submit(
      List<FeatureWrite> batch, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> lost) {
    submit(batch, landed);
  }

  /**
   * Whether a {@link #submit} now would be taken without waiting. A caller that will submit again
   * anyway (each flush submits what is still pending) submits only while it is true, rather than
   * wait for room on a stream thread or render a batch only to have it refused. By default always.
   */
  default boolean hasRoom() {
    return true;
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
          List<FeatureWrite> batch, Consumer<FeatureWrite> landed, Consumer<FeatureWrite> lost) {
        Set<String> refused = writer.writeFindingLost(batch);
        for (FeatureWrite w : batch) {
          if (refused.contains(w.key())) {
            lost.accept(w);
          } else {
            landed.accept(w);
          }
        }
      }
    };
  }
}
