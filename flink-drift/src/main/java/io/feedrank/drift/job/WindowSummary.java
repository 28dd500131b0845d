package io.feedrank.drift.job;

import java.util.Map;

/** What one feature looked like in one event-time window: a KLL sketch or category counts. */
public class WindowSummary {
  public String feature;
  public String kind;
  public long windowStart;
  public long windowEnd;
  public long n;

  /**
   * Independent sampling units behind the {@code n} values (records, {@link FeatureValue}): n for a
   * feature, the served responses for the score. 0 in state written before it was counted.
   */
  public long sampleSize;

  public double sum;

  /** Serialized KLL sketch of the values (numeric and prediction). */
  public byte[] sketch;

  /**
   * Counts per category (categorical). Declared as {@code Map} so that Flink serializes it itself
   * (a {@code HashMap} field fell back to Kryo); a mutable {@code HashMap}, as Flink's map
   * serializer restores it.
   */
  public Map<String, Long> counts;

  /**
   * Values of the feature that arrived behind the watermark (their window already closed). A
   * summary with {@code n == 0} and {@code late > 0} is only that count, for the next report.
   */
  public long late;

  public WindowSummary() {}

  /** {@code count} late values of {@code feature}: a count for its next report, no window. */
  static WindowSummary late(String feature, String kind, long count) {
    WindowSummary s = new WindowSummary();
    s.feature = feature;
    s.kind = kind;
    s.late = count;
    return s;
  }
}
