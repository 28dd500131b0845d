package io.feedrank.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.Vectorizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Exported graphs scored by ONNX Runtime equal a plain-Java forward pass of the same weights. */
class OnnxExportTest {
  static final int N = 257;
  static final int UB = 31;
  static final int IB = 53;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Random inputs of every group. */
  static final class Rows {
    final float[][] user = new float[N][Vectorizer.USER_WIDTH];
    final float[][] item = new float[N][Vectorizer.ITEM_WIDTH];
    final float[][] cross = new float[N][Vectorizer.CROSS_WIDTH];
    final float[][] context = new float[N][Vectorizer.CONTEXT_WIDTH];
    final long[] userId = new long[N];
    final long[] itemId = new long[N];

    Rows(Random r) {
      for (int i = 0; i < N; i++) {
        fill(r, user[i]);
        fill(r, item[i]);
        fill(r, cross[i]);
        fill(r, context[i]);
        userId[i] = r.nextInt(UB);
        itemId[i] = r.nextInt(IB);
      }
    }

    static void fill(Random r, float[] a) {
      for (int k = 0; k < a.length; k++) {
        a[k] = (float) r.nextGaussian();
      }
    }
  }

  static float[] run(byte[] model, Rows x, String output) throws Exception {
    return run(model, x, output, false);
  }

  /**
   * Scores {@code x}; with {@code oneUserRow}, the {@link ModelInputs#PER_REQUEST} inputs get only
   * row 0 of theirs, as a ranker feeds one user's candidates.
   */
  static float[] run(byte[] model, Rows x, String output, boolean oneUserRow) throws Exception {
    float[][] user = oneUserRow ? new float[][] {x.user[0]} : x.user;
    float[][] context = oneUserRow ? new float[][] {x.context[0]} : x.context;
    long[] userId = oneUserRow ? new long[] {x.userId[0]} : x.userId;
    try (OrtSession s = ENV.createSession(model, new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      try {
        for (String name : s.getInputNames()) {
          in.put(
              name,
              switch (name) {
                case ModelInputs.USER -> OnnxTensor.createTensor(ENV, user);
                case ModelInputs.ITEM -> OnnxTensor.createTensor(ENV, x.item);
                case ModelInputs.CROSS -> OnnxTensor.createTensor(ENV, x.cross);
                case ModelInputs.CONTEXT -> OnnxTensor.createTensor(ENV, context);
                case ModelInputs.USER_ID -> OnnxTensor.createTensor(ENV, userId);
                case ModelInputs.ITEM_ID -> OnnxTensor.createTensor(ENV, x.itemId);
                default -> throw new AssertionError(name);
              });
        }
        try (OrtSession.Result r = s.run(in, java.util.Set.of(output))) {
          return ((OnnxTensor) r.get(0)).getFloatBuffer().array();
        }
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }

  // ---- the reference: plain loops in double precision ----

  static double[] concat(float[]... parts) {
    int n = 0;
    for (float[] p : parts) {
      n += p.length;
    }
    double[] out = new double[n];
    int o = 0;
    for (float[] p : parts) {
      for (float v : p) {
        out[o++] = v;
      }
    }
    return out;
  }

  static float[] row(Embedding e, long id) {
    float[] v = new float[e.dim()];
    System.arraycopy(e.table(), (int) id * e.dim(), v, 0, e.dim());
    return v;
  }

  static double[] dense(Dense d, double[] x) {
    double[] y = new double[d.out()];
    for (int j = 0; j < d.out(); j++) {
      double s = d.bias()[j];
      for (int i = 0; i < d.in(); i++) {
        s += x[i] * d.weights()[i * d.out() + j];
      }
      y[j] = s;
    }
    return y;
  }

  static double[] relu(double[] x) {
    double[] y = x.clone();
    for (int i = 0; i < y.length; i++) {
      y[i] = Math.max(0, y[i]);
    }
    return y;
  }

  static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  static double[] tower(List<Dense> layers, double[] x) {
    for (int k = 0; k < layers.size(); k++) {
      x = dense(layers.get(k), x);
      if (k < layers.size() - 1) {
        x = relu(x);
      }
    }
    return x;
  }

  // ---- weights ----

  static Dense dense(Random r, int in, int out) {
    float[] w = new float[in * out];
    float[] b = new float[out];
    Rows.fill(r, w);
    Rows.fill(r, b);
    for (int i = 0; i < w.length; i++) {
      w[i] *= (float) Math.sqrt(1.0 / in);
    }
    return new Dense(in, out, w, b);
  }

  static Embedding embedding(Random r, int buckets, int dim) {
    float[] t = new float[buckets * dim];
    Rows.fill(r, t);
    return new Embedding(buckets, dim, t);
  }

  static Dense withBatchNorm(Random r, Dense d) {
    float[] g = new float[d.out()];
    float[] b = new float[d.out()];
    float[] m = new float[d.out()];
    float[] v = new float[d.out()];
    for (int j = 0; j < d.out(); j++) {
      g[j] = 0.5f + r.nextFloat();
      b[j] = (float) r.nextGaussian() * 0.2f;
      m[j] = (float) r.nextGaussian() * 0.3f;
      v[j] = 0.2f + r.nextFloat();
    }
    return d.foldBatchNorm(g, b, m, v, 1e-5f);
  }

  static final ModelMetadata META = new ModelMetadata(1, "test", UB, IB);

  static MlpWeights mlpWeights(Random r, int... hidden) {
    int in = MlpWeights.DENSE_WIDTH + 6 + 5;
    List<Dense> layers = new java.util.ArrayList<>();
    for (int h : hidden) {
      layers.add(withBatchNorm(r, dense(r, in, h)));
      in = h;
    }
    return new MlpWeights(embedding(r, UB, 6), embedding(r, IB, 5), layers, dense(r, in, 1));
  }

  /**
   * The MLP's score of row {@code n}, with the user side (user, context, user id) of row {@code u}.
   */
  static double mlpForward(MlpWeights w, Rows x, int n, int u) {
    double[] h =
        concat(
            x.user[u],
            x.item[n],
            x.cross[n],
            x.context[u],
            row(w.user(), x.userId[u]),
            row(w.item(), x.itemId[n]));
    for (Dense d : w.hidden()) {
      h = relu(dense(d, h));
    }
    return sigmoid(dense(w.output(), h)[0]);
  }

  @Test
  void mlpEqualsTheForwardPass() throws Exception {
    Random r = new Random(1);
    MlpWeights w = mlpWeights(r, 16, 8);
    Rows x = new Rows(r);
    float[] got = run(OnnxExport.mlp(w, META), x, ModelInputs.SCORE);
    assertThat(got).hasSize(N);
    for (int n = 0; n < N; n++) {
      assertThat((double) got[n]).isCloseTo(mlpForward(w, x, n, n), within(1e-5));
    }
  }

  /**
   * One row of user, context and user id for all N candidates (what a ranker feeds): every row is
   * scored with that user's side, as if it had been repeated — also with no hidden layer, where the
   * output layer is the one split.
   */
  @Test
  void mlpTakesTheRequestsSideAsOneRow() throws Exception {
    Random r = new Random(7);
    for (int[] hidden : new int[][] {{16, 8}, {}}) {
      MlpWeights w = mlpWeights(r, hidden);
      Rows x = new Rows(r);
      byte[] model = OnnxExport.mlp(w, META);
      float[] got = run(model, x, ModelInputs.SCORE, true);
      assertThat(got).hasSize(N);
      double spread = 0;
      for (int n = 0; n < N; n++) {
        double want = mlpForward(w, x, n, 0);
        assertThat((double) got[n]).isCloseTo(want, within(1e-5));
        spread = Math.max(spread, Math.abs(want - mlpForward(w, x, n, n)));
      }
      assertThat(spread).as("the rows' own users would score differently").isGreaterThan(1e-3);
    }
  }

  @Test
  void inputRowsOfALayerSumToIt() {
    Random r = new Random(8);
    Dense d = dense(r, 7, 3);
    int[][] a = {{0, 2}, {5, 2}};
    int[][] b = {{2, 3}};
    Dense da = d.inputRows(a, true);
    Dense db = d.inputRows(b, false);
    assertThat(da.in()).isEqualTo(4);
    assertThat(db.bias()).containsOnly(0f);
    float[] xf = new float[7];
    Rows.fill(r, xf);
    double[] x = concat(xf);
    double[] ya = dense(da, new double[] {x[0], x[1], x[5], x[6]});
    double[] yb = dense(db, new double[] {x[2], x[3], x[4]});
    double[] y = dense(d, x);
    for (int j = 0; j < 3; j++) {
      assertThat(ya[j] + yb[j]).isCloseTo(y[j], within(1e-9));
    }
    assertThatThrownBy(() -> d.inputRows(new int[][] {{6, 2}}, true))
        .hasMessage("input rows 6+2 outside a layer of 7 inputs");
  }

  @Test
  void logisticEqualsTheForwardPass() throws Exception {
    Random r = new Random(2);
    LogisticWeights w = new LogisticWeights(dense(r, MlpWeights.DENSE_WIDTH, 1));
    Rows x = new Rows(r);
    float[] got = run(OnnxExport.logistic(w, META), x, ModelInputs.SCORE);
    for (int n = 0; n < N; n++) {
      double want =
          sigmoid(dense(w.linear(), concat(x.user[n], x.item[n], x.cross[n], x.context[n]))[0]);
      assertThat((double) got[n]).isCloseTo(want, within(1e-5));
    }
  }

  @Test
  void twoTowerAndItsTowersEqualTheForwardPass() throws Exception {
    Random r = new Random(3);
    TwoTowerWeights w =
        new TwoTowerWeights(
            embedding(r, UB, 4),
            embedding(r, IB, 3),
            List.of(
                dense(r, Vectorizer.USER_WIDTH + Vectorizer.CONTEXT_WIDTH + 4, 10),
                dense(r, 10, 6)),
            List.of(dense(r, Vectorizer.ITEM_WIDTH + 3, 9), dense(r, 9, 7), dense(r, 7, 6)));
    Rows x = new Rows(r);
    float[] score = run(OnnxExport.twoTower(w, META), x, ModelInputs.SCORE);
    float[] users = run(OnnxExport.userTower(w, META), x, ModelInputs.USER_VECTOR);
    float[] items = run(OnnxExport.itemTower(w, META), x, ModelInputs.ITEM_VECTOR);
    assertThat(users).hasSize(N * 6);
    assertThat(items).hasSize(N * 6);
    for (int n = 0; n < N; n++) {
      double[] u =
          tower(w.userTower(), concat(x.user[n], x.context[n], row(w.user(), x.userId[n])));
      double[] it = tower(w.itemTower(), concat(x.item[n], row(w.item(), x.itemId[n])));
      double dot = 0;
      double towersDot = 0;
      for (int k = 0; k < 6; k++) {
        assertThat((double) users[n * 6 + k]).isCloseTo(u[k], within(1e-5));
        assertThat((double) items[n * 6 + k]).isCloseTo(it[k], within(1e-5));
        dot += u[k] * it[k];
        towersDot += (double) users[n * 6 + k] * items[n * 6 + k];
      }
      assertThat((double) score[n]).isCloseTo(sigmoid(dot), within(1e-5));
      assertThat((double) score[n]).isCloseTo(sigmoid(towersDot), within(1e-5));
    }
  }

  @Test
  void foldedBatchNormEqualsDenseThenBatchNorm() {
    Random r = new Random(4);
    Dense d = dense(r, 7, 5);
    float[] g = {0.5f, 1.5f, 2f, 0.1f, 1f};
    float[] b = {0.1f, -0.2f, 0f, 0.3f, 1f};
    float[] m = {0.2f, 0.1f, -0.4f, 0f, 2f};
    float[] v = {1f, 0.25f, 4f, 0.01f, 0.5f};
    Dense f = d.foldBatchNorm(g, b, m, v, 1e-3f);
    for (int t = 0; t < 50; t++) {
      float[] xf = new float[7];
      Rows.fill(r, xf);
      double[] x = concat(xf);
      double[] y = dense(d, x);
      double[] folded = dense(f, x);
      for (int j = 0; j < 5; j++) {
        double bn = (y[j] - m[j]) / Math.sqrt(v[j] + 1e-3) * g[j] + b[j];
        assertThat(folded[j]).isCloseTo(bn, within(1e-5));
      }
    }
  }

  @Test
  void theGraphDeclaresTheContractsInputsAndMetadata() throws Exception {
    Random r = new Random(5);
    MlpWeights w =
        new MlpWeights(
            embedding(r, UB, 2),
            embedding(r, IB, 2),
            List.of(),
            dense(r, MlpWeights.DENSE_WIDTH + 4, 1));
    try (OrtSession s = ENV.createSession(OnnxExport.mlp(w, new ModelMetadata(1, "mlp", UB, IB)))) {
      assertThat(s.getInputNames())
          .containsExactlyInAnyOrder("user", "item", "cross", "context", "user_id", "item_id");
      TensorInfo id = (TensorInfo) s.getInputInfo().get("user_id").getInfo();
      assertThat(id.type).isEqualTo(OnnxJavaType.INT64);
      assertThat(id.getShape()).hasSize(1);
      TensorInfo user = (TensorInfo) s.getInputInfo().get("user").getInfo();
      assertThat(user.getShape()[1]).isEqualTo(Vectorizer.USER_WIDTH);
      assertThat(((TensorInfo) s.getOutputInfo().get("score").getInfo()).getShape()).hasSize(1);
      assertThat(s.getMetadata().getCustomMetadata())
          .containsEntry(ModelInputs.META_SCHEMA_VERSION, "1")
          .containsEntry(ModelInputs.META_ARCHITECTURE, "mlp")
          .containsEntry(ModelInputs.META_USER_BUCKETS, Integer.toString(UB))
          .containsEntry(ModelInputs.META_ITEM_BUCKETS, Integer.toString(IB))
          .containsEntry(ModelInputs.META_PER_REQUEST, "user,context,user_id");
    }
    // a per-request input's batch dimension is named apart from the candidates'
    ai.onnx.proto.OnnxMl.GraphProto graph =
        ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
                OnnxExport.mlp(w, new ModelMetadata(1, "mlp", UB, IB)))
            .getGraph();
    Map<String, String> rows = new HashMap<>();
    graph
        .getInputList()
        .forEach(
            in ->
                rows.put(
                    in.getName(), in.getType().getTensorType().getShape().getDim(0).getDimParam()));
    assertThat(rows.get("user")).isEqualTo("request_rows");
    assertThat(rows.get("context")).isEqualTo("request_rows");
    assertThat(rows.get("user_id")).isEqualTo("request_rows");
    assertThat(rows.get("item")).isNotEqualTo("request_rows");
    assertThat(rows.get("item_id")).isEqualTo(rows.get("item"));
  }

  @Test
  void wrongWeightShapesAreRefusedNamingTheField() {
    assertThatThrownBy(() -> new Dense(3, 2, new float[5], new float[2]))
        .hasMessage("weights has 5 values; expected 6");
    assertThatThrownBy(() -> new Embedding(4, 2, new float[7]))
        .hasMessage("table has 7 values; expected 8");
    Random r = new Random(6);
    assertThatThrownBy(
            () ->
                new MlpWeights(
                    embedding(r, 2, 2),
                    embedding(r, 2, 2),
                    List.of(dense(r, 10, 4)),
                    dense(r, 4, 1)))
        .hasMessageContaining(
            "hidden[0] takes 10 inputs; expected " + (MlpWeights.DENSE_WIDTH + 4));
    assertThatThrownBy(
            () ->
                new TwoTowerWeights(
                    embedding(r, 2, 2),
                    embedding(r, 2, 2),
                    List.of(dense(r, Vectorizer.USER_WIDTH + Vectorizer.CONTEXT_WIDTH + 2, 4)),
                    List.of(dense(r, Vectorizer.ITEM_WIDTH + 2, 5))))
        .hasMessageContaining("different dimensions");
  }
}
