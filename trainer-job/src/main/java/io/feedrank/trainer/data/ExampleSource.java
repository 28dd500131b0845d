package io.feedrank.trainer.data;

/** Where training examples come from: the {@code training-examples} topic, or memory in tests. */
public interface ExampleSource {

  /** Every example whose event time is in {@code range}, in no particular order. */
  Loaded read(DataRange range);

  /**
   * What a read returned and what it passed over: records outside the range (read because topics
   * are seeked by record timestamp, not event time) and records that could not be used
   * (undecodable, or of another feature schema).
   */
  record Loaded(
      java.util.List<Example> examples, long recordsRead, long outsideRange, long unusable) {}
}
