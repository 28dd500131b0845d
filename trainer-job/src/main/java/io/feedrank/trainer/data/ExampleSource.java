package io.feedrank.trainer.data;

/** Where training examples come from: the {@code training-examples} topic, or memory in tests. */
public interface ExampleSource {

  /**
   * Offers every usable example whose event time is in {@code range}, in no particular order, to
   * {@code sample}, which keeps what the run holds; returns what was kept and the counts.
   */
  Loaded read(DataRange range, ExampleSample sample);

  /**
   * What a read kept and what it passed over: {@code examples} are the kept ones (at most the
   * sample's capacity) of the {@code inRange} usable examples of the range; records outside the
   * range (read because topics are seeked by record timestamp, not event time) and records that
   * could not be used (undecodable, of another feature schema, or refused by {@link Example#of}: a
   * feature not finite, an hour or day out of range); {@code stampedLate}, of the examples in the
   * range, those whose record is stamped more than the read's lateness after the range's end (an
   * app's clock ahead, or an event sent late: read all the same); {@code topicRead}, the records of
   * the topic it read (null for a source that is not a topic).
   */
  record Loaded(
      java.util.List<Example> examples,
      long inRange,
      long recordsRead,
      long outsideRange,
      long unusable,
      long stampedLate,
      TopicRead topicRead) {}
}
