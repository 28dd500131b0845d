package io.feedrank.models.onnx;

import ai.onnx.proto.OnnxMl;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.Vectorizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXInitializer;
import org.tribuo.util.onnx.ONNXOperator;
import org.tribuo.util.onnx.ONNXOperators;
import org.tribuo.util.onnx.ONNXPlaceholder;
import org.tribuo.util.onnx.ONNXRef;

/**
 * ONNX graphs of trained feedrank models, built from their weights with tribuo's graph builder, in
 * the input contract of {@link ModelInputs}: float groups {@code [N, width]}, int64 ids {@code
 * [N]}, the score as {@code [N]}. Each method returns a serialized {@code ModelProto} carrying
 * {@link ModelMetadata}.
 */
public final class OnnxExport {

  /** ONNX Relu, which tribuo's operator set lacks. */
  private enum Relu implements ONNXOperator {
    INSTANCE;

    @Override
    public String getOpName() {
      return "Relu";
    }

    @Override
    public int getNumInputs() {
      return 1;
    }

    @Override
    public int getNumOptionalInputs() {
      return 0;
    }

    @Override
    public int getNumOutputs() {
      return 1;
    }

    @Override
    public Map<String, ONNXAttribute> getAttributes() {
      return Map.of();
    }

    @Override
    public Set<String> getMandatoryAttributeNames() {
      return Set.of();
    }

    @Override
    public int getOpVersion() {
      return ONNXOperators.getOpsetVersion();
    }

    @Override
    public String getOpDomain() {
      return ONNXOperators.SIGMOID.getOpDomain();
    }
  }

  /**
   * The deep MLP, its first layer split by which side of the request its inputs describe: {@code
   * x·W = xᵤ·Wᵤ + xᵢ·Wᵢ}, where {@code xᵤ} is the user, context and user-embedding columns (the
   * same for every candidate of a request) and {@code xᵢ} the item, cross and item-embedding
   * columns. The user side is a Gemm of its own whose {@code [1 or N, h]} result is the {@code C}
   * of the item side's Gemm, so a feeder may give {@link ModelInputs#PER_REQUEST} inputs one row
   * for the whole batch (ONNX broadcasting) and the graph computes that side once instead of once
   * per candidate; fed {@code N} rows of each it scores rows of different users, as training
   * examples are.
   */
  public static byte[] mlp(MlpWeights w, ModelMetadata meta) {
    Graph g = new Graph("feedrank-mlp");
    g.perRequest = true;
    ONNXRef<?> user = g.input(ModelInputs.USER, Vectorizer.USER_WIDTH);
    ONNXRef<?> item = g.input(ModelInputs.ITEM, Vectorizer.ITEM_WIDTH);
    ONNXRef<?> cross = g.input(ModelInputs.CROSS, Vectorizer.CROSS_WIDTH);
    ONNXRef<?> context = g.input(ModelInputs.CONTEXT, Vectorizer.CONTEXT_WIDTH);
    ONNXRef<?> userEmb = g.embedding(w.user(), g.idInput(ModelInputs.USER_ID), "user_emb");
    ONNXRef<?> itemEmb = g.embedding(w.item(), g.idInput(ModelInputs.ITEM_ID), "item_emb");
    List<Dense> layers = new ArrayList<>(w.hidden());
    layers.add(w.output());
    // the concatenated input's column order, as MlpWeights defines it
    int uw = Vectorizer.USER_WIDTH;
    int iw = Vectorizer.ITEM_WIDTH;
    int cw = Vectorizer.CROSS_WIDTH;
    int xw = Vectorizer.CONTEXT_WIDTH;
    int ue = w.user().dim();
    int ie = w.item().dim();
    int[][] userSide = {{0, uw}, {uw + iw + cw, xw}, {MlpWeights.DENSE_WIDTH, ue}};
    int[][] itemSide = {{uw, iw + cw}, {MlpWeights.DENSE_WIDTH + ue, ie}};
    Dense first = layers.get(0);
    ONNXRef<?> perRequest =
        g.dense(first.inputRows(userSide, true), g.concat(List.of(user, context, userEmb)));
    ONNXRef<?> x =
        g.gemm(
            first.inputRows(itemSide, false), g.concat(List.of(item, cross, itemEmb)), perRequest);
    for (int k = 1; k < layers.size(); k++) {
      x = g.dense(layers.get(k), g.relu(x));
    }
    ONNXRef<?> score = g.rowSum(g.sigmoid(x));
    return g.finish(score, ModelInputs.SCORE, 0, meta);
  }

  public static byte[] logistic(LogisticWeights w, ModelMetadata meta) {
    Graph g = new Graph("feedrank-logistic");
    ONNXRef<?> x = g.concat(g.denseInputs(true));
    ONNXRef<?> score = g.rowSum(g.sigmoid(g.dense(w.linear(), x)));
    return g.finish(score, ModelInputs.SCORE, 0, meta);
  }

  /** The whole two-tower model: both towers, dot product, sigmoid. */
  public static byte[] twoTower(TwoTowerWeights w, ModelMetadata meta) {
    Graph g = new Graph("feedrank-two-tower");
    ONNXRef<?> u = userTower(g, w);
    ONNXRef<?> i = itemTower(g, w);
    ONNXRef<?> dot = g.rowSum(g.node(ONNXOperators.MUL, List.of(u, i), Map.of()));
    return g.finish(g.sigmoid(dot), ModelInputs.SCORE, 0, meta);
  }

  /** The user tower alone: {@code user, context, user_id → user_vec [N, d]}. */
  public static byte[] userTower(TwoTowerWeights w, ModelMetadata meta) {
    Graph g = new Graph("feedrank-user-tower");
    return g.finish(userTower(g, w), ModelInputs.USER_VECTOR, w.dimension(), meta);
  }

  /** The item tower alone: {@code item, item_id → item_vec [N, d]}. */
  public static byte[] itemTower(TwoTowerWeights w, ModelMetadata meta) {
    Graph g = new Graph("feedrank-item-tower");
    return g.finish(itemTower(g, w), ModelInputs.ITEM_VECTOR, w.dimension(), meta);
  }

  private static ONNXRef<?> userTower(Graph g, TwoTowerWeights w) {
    List<ONNXRef<?>> parts = new ArrayList<>();
    parts.add(g.input(ModelInputs.USER, Vectorizer.USER_WIDTH));
    parts.add(g.input(ModelInputs.CONTEXT, Vectorizer.CONTEXT_WIDTH));
    parts.add(g.embedding(w.user(), g.idInput(ModelInputs.USER_ID), "user_emb"));
    return g.tower(w.userTower(), g.concat(parts));
  }

  private static ONNXRef<?> itemTower(Graph g, TwoTowerWeights w) {
    List<ONNXRef<?>> parts = new ArrayList<>();
    parts.add(g.input(ModelInputs.ITEM, Vectorizer.ITEM_WIDTH));
    parts.add(g.embedding(w.item(), g.idInput(ModelInputs.ITEM_ID), "item_emb"));
    return g.tower(w.itemTower(), g.concat(parts));
  }

  /** One graph under construction; names of inputs and outputs are the contract's. */
  private static final class Graph {
    static final String REQUEST_ROWS = "request_rows";

    private final ONNXContext ctx = new ONNXContext();
    private final Set<String> idInputs = new java.util.HashSet<>();
    private ONNXInitializer axisOne;
    private int layer;
    private boolean perRequest;

    Graph(String name) {
      ctx.setName(name);
    }

    List<ONNXRef<?>> denseInputs(boolean withCross) {
      List<ONNXRef<?>> parts = new ArrayList<>();
      parts.add(input(ModelInputs.USER, Vectorizer.USER_WIDTH));
      parts.add(input(ModelInputs.ITEM, Vectorizer.ITEM_WIDTH));
      if (withCross) {
        parts.add(input(ModelInputs.CROSS, Vectorizer.CROSS_WIDTH));
      }
      parts.add(input(ModelInputs.CONTEXT, Vectorizer.CONTEXT_WIDTH));
      return parts;
    }

    ONNXPlaceholder input(String name, int width) {
      return ctx.floatInput(name, width);
    }

    /** An id input: declared as a float placeholder here, retyped to int64 [N] in finish. */
    ONNXPlaceholder idInput(String name) {
      idInputs.add(name);
      return ctx.floatInput(name, 1);
    }

    ONNXRef<?> embedding(Embedding e, ONNXRef<?> ids, String name) {
      ONNXInitializer table =
          ctx.floatTensor(name, List.of(e.buckets(), e.dim()), fb -> fb.put(e.table()));
      return node(ONNXOperators.GATHER, List.of(table, ids), Map.of("axis", 0));
    }

    ONNXRef<?> concat(List<ONNXRef<?>> parts) {
      return node(ONNXOperators.CONCAT, parts, Map.of("axis", 1));
    }

    ONNXRef<?> dense(Dense d, ONNXRef<?> x) {
      return gemm(d, x, ctx.array("dense" + layer + "_b", d.bias()));
    }

    /** {@code x·W + c}, {@code c} broadcast over the rows of {@code x}; d's bias is not used. */
    ONNXRef<?> gemm(Dense d, ONNXRef<?> x, ONNXRef<?> c) {
      int k = layer++;
      ONNXInitializer w =
          ctx.floatTensor("dense" + k + "_w", List.of(d.in(), d.out()), fb -> fb.put(d.weights()));
      return node(ONNXOperators.GEMM, List.of(x, w, c), Map.of());
    }

    ONNXRef<?> tower(List<Dense> layers, ONNXRef<?> x) {
      for (int k = 0; k < layers.size(); k++) {
        x = dense(layers.get(k), x);
        if (k < layers.size() - 1) {
          x = relu(x);
        }
      }
      return x;
    }

    ONNXRef<?> relu(ONNXRef<?> x) {
      return node(Relu.INSTANCE, List.of(x), Map.of());
    }

    ONNXRef<?> sigmoid(ONNXRef<?> x) {
      return node(ONNXOperators.SIGMOID, List.of(x), Map.of());
    }

    /** Sum over axis 1, dropping it: {@code [N, k] → [N]}. */
    ONNXRef<?> rowSum(ONNXRef<?> x) {
      if (axisOne == null) {
        axisOne = ctx.array("axis_one", new long[] {1L});
      }
      return node(ONNXOperators.REDUCE_SUM, List.of(x, axisOne), Map.of("keepdims", 0));
    }

    ONNXRef<?> node(ONNXOperator op, List<? extends ONNXRef<?>> inputs, Map<String, Object> attrs) {
      return ctx.operation(op, inputs, op.getOpName().toLowerCase(java.util.Locale.ROOT), attrs);
    }

    /**
     * Binds {@code value} to the graph output {@code name} ({@code [N]} when {@code width} is 0,
     * else {@code [N, width]}), retypes the id inputs and wraps the graph in a ModelProto.
     */
    byte[] finish(ONNXRef<?> value, String name, int width, ModelMetadata meta) {
      ONNXPlaceholder out = ctx.floatOutput(name, Math.max(1, width));
      ctx.assignTo(value, out);
      OnnxMl.GraphProto graph = ctx.buildGraph();
      OnnxMl.GraphProto.Builder gb = graph.toBuilder();
      for (int i = 0; i < gb.getInputCount(); i++) {
        OnnxMl.ValueInfoProto in = gb.getInput(i);
        if (idInputs.contains(in.getName())) {
          in = vector(in, OnnxMl.TensorProto.DataType.INT64);
        }
        if (perRequest && ModelInputs.PER_REQUEST.contains(in.getName())) {
          in = requestRows(in);
        }
        gb.setInput(i, in);
      }
      if (width == 0) {
        for (int i = 0; i < gb.getOutputCount(); i++) {
          if (gb.getOutput(i).getName().equals(name)) {
            gb.setOutput(i, vector(gb.getOutput(i), OnnxMl.TensorProto.DataType.FLOAT));
          }
        }
      }
      OnnxMl.ModelProto.Builder m =
          OnnxMl.ModelProto.newBuilder()
              .setIrVersion(8)
              .addOpsetImport(ONNXOperators.getOpsetProto())
              .setProducerName("feedrank")
              .setGraph(gb.build());
      prop(m, ModelInputs.META_SCHEMA_VERSION, Integer.toString(meta.featureSchemaVersion()));
      prop(m, ModelInputs.META_ARCHITECTURE, meta.architecture());
      prop(m, ModelInputs.META_USER_BUCKETS, Integer.toString(meta.userBuckets()));
      prop(m, ModelInputs.META_ITEM_BUCKETS, Integer.toString(meta.itemBuckets()));
      if (perRequest) {
        prop(m, ModelInputs.META_PER_REQUEST, String.join(",", ModelInputs.PER_REQUEST));
      }
      if (meta.build() != null) {
        prop(m, ModelMetadata.META_BUILD, meta.build());
      }
      if (meta.runId() != null) {
        prop(m, ModelMetadata.META_RUN_ID, meta.runId());
      }
      return m.build().toByteArray();
    }

    /** The value info as a rank-1 tensor of {@code type} whose one dimension is the batch's. */
    private static OnnxMl.ValueInfoProto vector(
        OnnxMl.ValueInfoProto v, OnnxMl.TensorProto.DataType type) {
      OnnxMl.TensorShapeProto.Dimension batch = v.getType().getTensorType().getShape().getDim(0);
      return v.toBuilder()
          .setType(
              OnnxMl.TypeProto.newBuilder()
                  .setTensorType(
                      OnnxMl.TypeProto.Tensor.newBuilder()
                          .setElemType(type.getNumber())
                          .setShape(OnnxMl.TensorShapeProto.newBuilder().addDim(batch))))
          .build();
    }

    /**
     * The value info with its batch dimension named {@value #REQUEST_ROWS}: a per-request input may
     * have 1 row where the others have N, so it must not share their dimension's name.
     */
    private static OnnxMl.ValueInfoProto requestRows(OnnxMl.ValueInfoProto v) {
      OnnxMl.ValueInfoProto.Builder b = v.toBuilder();
      b.getTypeBuilder()
          .getTensorTypeBuilder()
          .getShapeBuilder()
          .getDimBuilder(0)
          .setDimParam(REQUEST_ROWS);
      return b.build();
    }

    private static void prop(OnnxMl.ModelProto.Builder m, String key, String value) {
      m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value));
    }
  }

  private OnnxExport() {}
}
