package io.feedrank.drift.job;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * Window state of one feature, kept as a Flink POJO so checkpoints serialize it without Kryo:
 * numeric values gather in a buffer that is folded into a serialized KLL sketch every {@value
 * #BUFFER} values (state stays small whatever the window's size); categories are counted.
 *
 * <p>A value that is not finite is left out, and a record with no finite value is no sampling unit:
 * KLL drops NaN, so a window of NaN alone had values and an empty sketch, which failed the
 * evaluator (and the job, at each restart); an infinity made the window's mean infinite. What is
 * left out shows as a report's {@code n} below its window's examples ({@code __example__}).
 */
public class SketchAccumulator {
  static final int BUFFER = 4096;
  static final int K = 200;

  public String kind;
  public long n;

  /** Sampling units, one per record ({@link FeatureValue}): the window's sample size. */
  public long units;

  public double sum;
  public double[] buffer = new double[0];
  public int buffered;
  public byte[] sketch;

  /**
   * Counts per category. Declared as {@code Map}, which Flink serializes itself (a {@code HashMap}
   * field fell back to Kryo); always a mutable {@code HashMap}, which {@link #merge} adds to.
   */
  public Map<String, Long> counts;

  public SketchAccumulator() {}

  void add(FeatureValue v) {
    kind = v.kind;
    if ("CATEGORICAL".equals(v.kind)) {
      units++;
      n++;
      if (counts == null) {
        counts = new HashMap<>();
      }
      counts.merge(v.category == null ? "" : v.category, 1L, Long::sum);
      return;
    }
    long before = n;
    if (v.values == null) {
      add(v.value);
    } else {
      for (double x : v.values) {
        add(x);
      }
    }
    if (n > before) {
      units++;
    }
  }

  private void add(double value) {
    if (!Double.isFinite(value)) {
      return;
    }
    n++;
    sum += value;
    if (buffered == buffer.length) {
      if (buffered >= BUFFER) {
        fold();
      } else {
        buffer = Arrays.copyOf(buffer, Math.max(64, buffered * 2));
      }
    }
    buffer[buffered++] = value;
  }

  /** Folds the buffer into the sketch. */
  void fold() {
    if (buffered == 0) {
      return;
    }
    KllDoublesSketch s = sketchOrNew();
    s.update(buffer, 0, buffered);
    sketch = s.toByteArray();
    buffered = 0;
  }

  private KllDoublesSketch sketchOrNew() {
    return sketch == null
        ? KllDoublesSketch.newHeapInstance(K)
        : KllDoublesSketch.heapify(Memory.wrap(sketch));
  }

  SketchAccumulator merge(SketchAccumulator other) {
    if (kind == null) {
      kind = other.kind;
    }
    n += other.n;
    units += other.units;
    sum += other.sum;
    if (other.counts != null) {
      if (counts == null) {
        counts = new HashMap<>();
      }
      other.counts.forEach((c, k) -> counts.merge(c, k, Long::sum));
    }
    fold();
    other.fold();
    if (other.sketch != null) {
      KllDoublesSketch s = sketchOrNew();
      s.merge(KllDoublesSketch.heapify(Memory.wrap(other.sketch)));
      sketch = s.toByteArray();
    }
    return this;
  }
}
