package io.feedrank.ranker;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.feedrank.events.Device;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ModelRow;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.models.onnx.Dense;
import io.feedrank.models.onnx.Embedding;
import io.feedrank.models.onnx.LogisticWeights;
import io.feedrank.models.onnx.MlpWeights;
import io.feedrank.models.onnx.ModelMetadata;
import io.feedrank.models.onnx.OnnxExport;
import io.feedrank.models.onnx.TwoTowerWeights;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small models of the feedrank input contract with seeded random weights, built with model-spec.
 */
final class TestModels {
  static final int USER_BUCKETS = 97;
  static final int ITEM_BUCKETS = 211;

  /** A full model and a direct ONNX Runtime evaluation of it. */
  record Mlp(byte[] onnx) {

    /**
     * The same graph with its {@code feedrank.per_request_inputs} set to {@code value} (null: none,
     * as models exported before it carry).
     */
    Mlp withPerRequest(String value) throws Exception {
      OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.parseFrom(onnx).toBuilder();
      for (int i = m.getMetadataPropsCount() - 1; i >= 0; i--) {
        if (m.getMetadataProps(i).getKey().equals(ModelInputs.META_PER_REQUEST)) {
          m.removeMetadataProps(i);
        }
      }
      if (value != null) {
        m.addMetadataProps(
            OnnxMl.StringStringEntryProto.newBuilder()
                .setKey(ModelInputs.META_PER_REQUEST)
                .setValue(value));
      }
      return new Mlp(m.build().toByteArray());
    }

    /**
     * Scores rows built from the fixture's in-memory state with plain float[][] inputs: an
     * evaluation that shares nothing with the service's path but the vectorizer.
     */
    double[] scoreDirect(FeatureFixture f, long user, long[] items, long atMillis, Device device)
        throws Exception {
      ServingFeatures sf = new ServingFeatures(user, f.userHash(user), atMillis, device);
      int n = items.length;
      float[][] u = new float[n][];
      float[][] it = new float[n][];
      float[][] cr = new float[n][];
      float[][] cx = new float[n][];
      long[] uid = new long[n];
      long[] iid = new long[n];
      for (int i = 0; i < n; i++) {
        ModelRow row = sf.row(items[i], f.itemHash(items[i]), USER_BUCKETS, ITEM_BUCKETS);
        u[i] = row.user;
        it[i] = row.item;
        cr[i] = row.cross;
        cx[i] = row.context;
        uid[i] = row.userBucket;
        iid[i] = row.itemBucket;
      }
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession s = env.createSession(onnx, new OrtSession.SessionOptions())) {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
          in.put(ModelInputs.USER, OnnxTensor.createTensor(env, u));
          in.put(ModelInputs.ITEM, OnnxTensor.createTensor(env, it));
          in.put(ModelInputs.CROSS, OnnxTensor.createTensor(env, cr));
          in.put(ModelInputs.CONTEXT, OnnxTensor.createTensor(env, cx));
          in.put(ModelInputs.USER_ID, OnnxTensor.createTensor(env, uid));
          in.put(ModelInputs.ITEM_ID, OnnxTensor.createTensor(env, iid));
          in.keySet().retainAll(s.getInputNames());
          try (OrtSession.Result r = s.run(in)) {
            float[] out = (float[]) r.get(0).getValue();
            double[] d = new double[out.length];
            for (int i = 0; i < d.length; i++) {
              d[i] = out[i];
            }
            return d;
          }
        } finally {
          in.values().forEach(OnnxTensor::close);
        }
      }
    }
  }

  record TwoTower(byte[] userTower, byte[] itemTower, byte[] full) {}

  static Mlp mlp(long seed) {
    Random r = new Random(seed);
    int du = 4;
    int di = 4;
    int in =
        Vectorizer.USER_WIDTH
            + Vectorizer.ITEM_WIDTH
            + Vectorizer.CROSS_WIDTH
            + Vectorizer.CONTEXT_WIDTH
            + du
            + di;
    MlpWeights w =
        new MlpWeights(
            embedding(r, USER_BUCKETS, du),
            embedding(r, ITEM_BUCKETS, di),
            List.of(dense(r, in, 16), dense(r, 16, 8)),
            dense(r, 8, 1));
    return new Mlp(OnnxExport.mlp(w, metadata("mlp")));
  }

  /**
   * An MLP whose embedding tables hold {@code buckets} rows of 32 floats each: {@code 2 × buckets ×
   * 128} bytes of weights, for tests of what a session holds.
   */
  static Mlp largeMlp(long seed, int buckets) {
    Random r = new Random(seed);
    int in = MlpWeights.DENSE_WIDTH + 64;
    MlpWeights w =
        new MlpWeights(
            embedding(r, buckets, 32),
            embedding(r, buckets, 32),
            List.of(dense(r, in, 16)),
            dense(r, 16, 1));
    return new Mlp(
        OnnxExport.mlp(w, new ModelMetadata(FeatureSchema.VERSION, "mlp", buckets, buckets)));
  }

  /** A logistic model: its graph concatenates every input, so its rows must all be fed. */
  static Mlp logistic(long seed) {
    Random r = new Random(seed);
    return new Mlp(
        OnnxExport.logistic(
            new LogisticWeights(dense(r, MlpWeights.DENSE_WIDTH, 1)), metadata("logistic")));
  }

  static TwoTower twoTower(long seed) {
    Random r = new Random(seed);
    int d = 8;
    TwoTowerWeights w =
        new TwoTowerWeights(
            embedding(r, USER_BUCKETS, 4),
            embedding(r, ITEM_BUCKETS, 4),
            List.of(
                dense(r, Vectorizer.USER_WIDTH + Vectorizer.CONTEXT_WIDTH + 4, 12),
                scaled(dense(r, 12, d), 0.25f)),
            List.of(dense(r, Vectorizer.ITEM_WIDTH + 4, 12), scaled(dense(r, 12, d), 0.25f)));
    ModelMetadata m = metadata("two_tower");
    return new TwoTower(
        OnnxExport.userTower(w, m), OnnxExport.itemTower(w, m), OnnxExport.twoTower(w, m));
  }

  /** Keeps tower outputs small, so that scores are not all saturated at 0 or 1. */
  static Dense scaled(Dense d, float f) {
    float[] w = d.weights().clone();
    for (int i = 0; i < w.length; i++) {
      w[i] *= f;
    }
    return new Dense(d.in(), d.out(), w, d.bias());
  }

  static ModelMetadata metadata(String architecture) {
    return new ModelMetadata(FeatureSchema.VERSION, architecture, USER_BUCKETS, ITEM_BUCKETS);
  }

  static Embedding embedding(Random r, int buckets, int dim) {
    float[] t = new float[buckets * dim];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) (r.nextGaussian() * 0.3);
    }
    return new Embedding(buckets, dim, t);
  }

  static Dense dense(Random r, int in, int out) {
    float[] w = new float[in * out];
    double scale = Math.sqrt(2.0 / in);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * scale);
    }
    float[] b = new float[out];
    for (int i = 0; i < out; i++) {
      b[i] = (float) (r.nextGaussian() * 0.1);
    }
    return new Dense(in, out, w, b);
  }

  private TestModels() {}
}
