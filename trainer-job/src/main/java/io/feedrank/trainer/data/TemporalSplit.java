package io.feedrank.trainer.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The temporal 70/15/15 split: examples ordered by event time, the oldest 70% to train on, the next
 * 15% to choose the epoch on, the newest 15% to evaluate and compare models on. A model is never
 * evaluated on data older than what it learned from, as it would be in production. Examples of the
 * same millisecond stay on one side of each boundary (the earlier side): every validation example
 * is later than every training example, and every held-out example later than every example learned
 * from, so the first one's time ({@link #testFromMillis}, a model's {@code holdout_from}) tells
 * them apart. The examples are ordered by {@link Example#ORDER}, a total order: the same examples
 * give the same three lists, element for element, whatever order they come in.
 */
public record TemporalSplit(List<Example> train, List<Example> validation, List<Example> test) {
  public static final double TRAIN_SHARE = 0.70;
  public static final double VALIDATION_SHARE = 0.15;

  /** Splits {@code examples} (any order; sorted here by {@link Example#ORDER}). */
  public static TemporalSplit of(List<Example> examples) {
    List<Example> sorted = new ArrayList<>(examples);
    sorted.sort(Example.ORDER);
    int n = sorted.size();
    int trainEnd = pastMillisecond(sorted, (int) Math.round(n * TRAIN_SHARE));
    int validationEnd =
        pastMillisecond(
            sorted, Math.max(trainEnd, (int) Math.round(n * (TRAIN_SHARE + VALIDATION_SHARE))));
    return new TemporalSplit(
        sorted.subList(0, trainEnd),
        sorted.subList(trainEnd, validationEnd),
        sorted.subList(validationEnd, n));
  }

  /**
   * {@code end}, moved past the examples of the millisecond of the one before it: a boundary that
   * does not split a millisecond.
   */
  private static int pastMillisecond(List<Example> sorted, int end) {
    while (end > 0
        && end < sorted.size()
        && sorted.get(end).eventTimeMillis() == sorted.get(end - 1).eventTimeMillis()) {
      end++;
    }
    return end;
  }

  /** Event time of the first test example: where the holdout starts. */
  public long testFromMillis() {
    return test.isEmpty() ? Long.MAX_VALUE : test.get(0).eventTimeMillis();
  }
}
