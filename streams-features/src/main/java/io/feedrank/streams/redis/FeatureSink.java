package io.feedrank.streams.redis;

import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import java.util.List;
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

  /** A synchronous writer: a write has landed when {@link FeatureWriter#write} returns. */
  static FeatureSink of(FeatureWriter writer) {
    if (writer instanceof FeatureSink sink) {
      return sink;
    }
    return (batch, landed) -> {
      writer.write(batch);
      batch.forEach(landed);
    };
  }
}
