package io.feedrank.trainer.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The temporal 70/15/15 split: examples ordered by event time, the oldest 70% to train on, the next
 * 15% to choose the epoch on, the newest 15% to evaluate and compare models on. A model is never
 * evaluated on data older than what it learned from, as it would be in production. Examples of the
 * same millisecond stay on one side of the test split's start (the validation side): every held-out
 * example is later than every example learned from, so the first one's time ({@link
 * #testFromMillis}, a model's {@code holdout_from}) tells them apart.
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
    while (validationEnd > 0
        && validationEnd < n
        && sorted.get(validationEnd).eventTimeMillis()
            == sorted.get(validationEnd - 1).eventTimeMillis()) {
      validationEnd++;
    }
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
