package io.feedrank.trainer.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.trainer.data.Dataset;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Scores a dataset with ONNX Runtime, feeding each input the model declares by its {@link
 * ModelInputs} name: how exports are verified and how the production model is evaluated on a
 * candidate's holdout.
 */
public final class OnnxScorer implements AutoCloseable {
  private static final int BATCH = 4096;
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String output;
  private final int width;

  /**
   * A scorer for the output {@code output} ({@code score}, or a tower's vector of {@code width}).
   */
  public OnnxScorer(byte[] model, String output, int width) {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      this.session = env.createSession(model, o);
    } catch (OrtException e) {
      throw new IllegalArgumentException(
          "ONNX Runtime cannot load the model: " + e.getMessage(), e);
    }
    if (!session.getOutputNames().contains(output)) {
      String names = session.getOutputNames().toString();
      close();
      throw new IllegalArgumentException("model has no output '" + output + "', only " + names);
    }
    this.output = output;
    this.width = Math.max(1, width);
  }

  public static float[] scores(byte[] model, Dataset d) {
    try (OnnxScorer s = new OnnxScorer(model, ModelInputs.SCORE, 1)) {
      return s.run(d);
    }
  }

  /** The output for every row of {@code d}: {@code [rows]} or {@code [rows × width]}. */
  public float[] run(Dataset d) {
    float[] out = new float[d.size * width];
    for (int from = 0; from < d.size; from += BATCH) {
      int to = Math.min(d.size, from + BATCH);
      float[] part = runRows(d, from, to);
      System.arraycopy(part, 0, out, from * width, part.length);
    }
    return out;
  }

  private float[] runRows(Dataset d, int from, int to) {
    long n = to - from;
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      for (String name : session.getInputNames()) {
        in.put(name, tensor(name, d, from, n));
      }
      try (OrtSession.Result r = session.run(in, Set.of(output))) {
        FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
        float[] values = new float[b.remaining()];
        b.get(values);
        return values;
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed to score: " + e.getMessage(), e);
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  private OnnxTensor tensor(String name, Dataset d, int from, long n) throws OrtException {
    return switch (name) {
      case ModelInputs.USER -> floats(d.user, Dataset.USER, from, n);
      case ModelInputs.ITEM -> floats(d.item, Dataset.ITEM, from, n);
      case ModelInputs.CROSS -> floats(d.cross, Dataset.CROSS, from, n);
      case ModelInputs.CONTEXT -> floats(d.context, Dataset.CONTEXT, from, n);
      case ModelInputs.USER_ID ->
          OnnxTensor.createTensor(
              env, LongBuffer.wrap(d.userBucket, from, (int) n), new long[] {n});
      case ModelInputs.ITEM_ID ->
          OnnxTensor.createTensor(
              env, LongBuffer.wrap(d.itemBucket, from, (int) n), new long[] {n});
      default -> throw new IllegalArgumentException("model has an unknown input '" + name + "'");
    };
  }

  private OnnxTensor floats(float[] a, int w, int from, long n) throws OrtException {
    return OnnxTensor.createTensor(
        env, FloatBuffer.wrap(a, from * w, (int) n * w), new long[] {n, w});
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("cannot close ONNX session", e);
    }
  }
}
