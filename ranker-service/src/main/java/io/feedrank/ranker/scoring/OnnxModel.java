package io.feedrank.ranker.scoring;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.Vectorizer;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX Runtime session of a feedrank model, checked on load: its feature schema version must be
 * one this code builds, every input must be one of {@link ModelInputs} with the right type and
 * width, and the expected output must exist. A session is thread-safe; {@link #run} feeds exactly
 * the inputs the model declares, from a {@link Batch}'s direct buffers.
 */
public final class OnnxModel implements AutoCloseable {
  private static final Map<String, Integer> FLOAT_WIDTHS =
      Map.of(
          ModelInputs.USER, Vectorizer.USER_WIDTH,
          ModelInputs.ITEM, Vectorizer.ITEM_WIDTH,
          ModelInputs.CROSS, Vectorizer.CROSS_WIDTH,
          ModelInputs.CONTEXT, Vectorizer.CONTEXT_WIDTH);
  private static final Set<String> ID_INPUTS = Set.of(ModelInputs.USER_ID, ModelInputs.ITEM_ID);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final Set<String> inputs;
  private final Set<String> perRequest;
  private final boolean userGroupsOnce; // the batch fills its user and context groups in row 0
  private final String output;
  private final int userBuckets;
  private final int itemBuckets;
  private final String architecture;

  private OnnxModel(
      OrtEnvironment env,
      OrtSession session,
      Set<String> perRequest,
      String output,
      int userBuckets,
      int itemBuckets,
      String architecture)
      throws OrtException {
    this.env = env;
    this.session = session;
    this.inputs = session.getInputNames();
    this.perRequest = perRequest;
    this.userGroupsOnce =
        perRequest.contains(ModelInputs.USER) && perRequest.contains(ModelInputs.CONTEXT);
    this.output = output;
    this.userBuckets = userBuckets;
    this.itemBuckets = itemBuckets;
    this.architecture = architecture;
  }

  /**
   * Loads and checks a model.
   *
   * @param output the output the caller will read ({@code score}, {@code user_vec}, {@code
   *     item_vec})
   * @throws ModelException naming what is wrong; nothing stays open then
   */
  public static OnnxModel load(byte[] bytes, String output, int intraOpThreads) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(intraOpThreads);
      o.setInterOpNumThreads(1);
      o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = env.createSession(bytes, o);
    } catch (OrtException e) {
      throw new ModelException("not a loadable ONNX model: " + e.getMessage(), e);
    }
    try {
      Map<String, String> meta = session.getMetadata().getCustomMetadata();
      int version = intMeta(meta, ModelInputs.META_SCHEMA_VERSION, -1);
      if (!FeatureSchema.canBuild(version)) {
        throw new ModelException(
            "model needs feature schema version "
                + version
                + "; this ranker builds version "
                + FeatureSchema.VERSION);
      }
      for (Map.Entry<String, NodeInfo> in : session.getInputInfo().entrySet()) {
        checkInput(in.getKey(), (TensorInfo) in.getValue().getInfo());
      }
      if (!session.getOutputNames().contains(output)) {
        throw new ModelException(
            "model has no output '" + output + "' (has " + session.getOutputNames() + ")");
      }
      Set<String> perRequest;
      try {
        perRequest = ModelInputs.perRequestInputs(meta);
      } catch (IllegalArgumentException e) {
        throw new ModelException(e.getMessage(), e);
      }
      return new OnnxModel(
          env,
          session,
          perRequest,
          output,
          intMeta(meta, ModelInputs.META_USER_BUCKETS, 1),
          intMeta(meta, ModelInputs.META_ITEM_BUCKETS, 1),
          meta.getOrDefault(ModelInputs.META_ARCHITECTURE, "unknown"));
    } catch (OrtException | RuntimeException e) {
      try {
        session.close();
      } catch (OrtException ignored) {
        // already failing
      }
      throw e instanceof ModelException me ? me : new ModelException(e.getMessage(), e);
    }
  }

  private static void checkInput(String name, TensorInfo info) {
    Integer width = FLOAT_WIDTHS.get(name);
    if (width != null) {
      long[] shape = info.getShape();
      if (info.type != OnnxJavaType.FLOAT || shape.length != 2 || shape[1] != width) {
        throw new ModelException(
            "input '" + name + "' must be float [N, " + width + "], is " + info);
      }
    } else if (ID_INPUTS.contains(name)) {
      if (info.type != OnnxJavaType.INT64 || info.getShape().length != 1) {
        throw new ModelException("input '" + name + "' must be int64 [N], is " + info);
      }
    } else {
      throw new ModelException("unknown input '" + name + "'");
    }
  }

  private static int intMeta(Map<String, String> meta, String key, int dflt) {
    String v = meta.get(key);
    if (v == null) {
      if (dflt < 0) {
        throw new ModelException("model metadata lacks " + key);
      }
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new ModelException("model metadata " + key + " is not an integer: '" + v + "'");
    }
  }

  public String architecture() {
    return architecture;
  }

  public Set<String> inputs() {
    return inputs;
  }

  /**
   * The inputs this model takes as one row per request ({@link ModelInputs#META_PER_REQUEST}):
   * {@link #run} feeds those the user's row alone.
   */
  public Set<String> perRequest() {
    return perRequest;
  }

  /** Runs the model on rows {@code [0, rows)} of the batch and returns the output as floats. */
  public float[] run(Batch b, int rows) {
    b.vectorize(userGroupsOnce);
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      if (inputs.contains(ModelInputs.USER_ID) || inputs.contains(ModelInputs.ITEM_ID)) {
        b.fillIds(userBuckets, itemBuckets);
      }
      for (String name : inputs) {
        feed.put(name, tensor(name, b, ModelInputs.rowsFed(name, perRequest, rows)));
      }
      try (OrtSession.Result r = session.run(feed, Set.of(output))) {
        OnnxTensor t = (OnnxTensor) r.get(0);
        FloatBuffer fb = t.getFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
      }
    } catch (OrtException e) {
      throw new ModelException("inference failed: " + e.getMessage(), e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private OnnxTensor tensor(String name, Batch b, int rows) throws OrtException {
    return switch (name) {
      case ModelInputs.USER -> floats(b.user, rows, Vectorizer.USER_WIDTH);
      case ModelInputs.ITEM -> floats(b.item, rows, Vectorizer.ITEM_WIDTH);
      case ModelInputs.CROSS -> floats(b.cross, rows, Vectorizer.CROSS_WIDTH);
      case ModelInputs.CONTEXT -> floats(b.context, rows, Vectorizer.CONTEXT_WIDTH);
      case ModelInputs.USER_ID -> longs(b.userIds, rows);
      case ModelInputs.ITEM_ID -> longs(b.itemIds, rows);
      default -> throw new ModelException("unknown input '" + name + "'");
    };
  }

  private OnnxTensor floats(FloatBuffer src, int rows, int width) throws OrtException {
    FloatBuffer view = slice(src, rows * width);
    return OnnxTensor.createTensor(env, view, new long[] {rows, width});
  }

  private OnnxTensor longs(LongBuffer src, int rows) throws OrtException {
    LongBuffer view = src.duplicate();
    ((Buffer) view).position(0).limit(rows);
    return OnnxTensor.createTensor(env, view.slice(), new long[] {rows});
  }

  private static FloatBuffer slice(FloatBuffer src, int n) {
    FloatBuffer view = src.duplicate();
    ((Buffer) view).position(0).limit(n);
    return view.slice();
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new ModelException("closing the session failed: " + e.getMessage(), e);
    }
  }
}
