package io.feedrank.trainer.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The temporal 70/15/15 split: examples ordered by event time, the oldest 70% to train on, the next
 * 15% to choose the epoch on, the newest 15% to evaluate and compare models on. A model is never
 * evaluated on data older than what it learned from, as it would be in production.
 */
public record TemporalSplit(List<Example> train, List<Example> validation, List<Example> test) {
  public static final double TRAIN_SHARE = 0.70;
  public static final double VALIDATION_SHARE = 0.15;

  /** Splits {@code examples} (any order; sorted here by event time, stable). */
  public static TemporalSplit of(List<Example> examples) {
    List<Example> sorted = new ArrayList<>(examples);
    sorted.sort(Comparator.comparingLong(Example::eventTimeMillis));
    int n = sorted.size();
    int trainEnd = (int) Math.round(n * TRAIN_SHARE);
    int validationEnd = (int) Math.round(n * (TRAIN_SHARE + VALIDATION_SHARE));
    return new TemporalSplit(
        sorted.subList(0, trainEnd),
        sorted.subList(trainEnd, validationEnd),
        sorted.subList(validationEnd, n));
  }

  /** Event time of the first test example: where the holdout starts. */
  public long testFromMillis() {
    return test.isEmpty() ? Long.MAX_VALUE : test.get(0).eventTimeMillis();
  }
}
