package io.feedrank.trainer.train;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.onnx.Dense;
import io.feedrank.models.onnx.Embedding;
import io.feedrank.models.onnx.LogisticWeights;
import io.feedrank.models.onnx.MlpWeights;
import io.feedrank.models.onnx.ModelMetadata;
import io.feedrank.models.onnx.OnnxExport;
import io.feedrank.models.onnx.TwoTowerWeights;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.Standardization.Group;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network after training, holding its best epoch's weights: scores rows with the training
 * framework itself (the reference the ONNX export is verified against) and turns its weights into
 * ONNX graphs (BatchNorm and the input standardisation folded into the Gemm weights).
 */
public final class TrainedNetwork implements AutoCloseable {
  final Architecture architecture;
  final Hyperparameters hyper;
  private final Model model;
  private final Block block;
  final Trainer trainer;
  private byte[] best;
  private int bestEpoch;
  private double bestValidationAuc = Double.NaN;
  List<NetworkTrainer.Epoch> epochs = List.of();

  TrainedNetwork(Architecture a, Hyperparameters h, Model model, Block block, Trainer trainer) {
    this.architecture = a;
    this.hyper = h;
    this.model = model;
    this.block = block;
    this.trainer = trainer;
  }

  public Architecture architecture() {
    return architecture;
  }

  public List<NetworkTrainer.Epoch> epochs() {
    return epochs;
  }

  /** The width of an exported two-tower's vectors: the last tower layer plus the bias unit. */
  public int vectorDimension() {
    int[] t = hyper.towerLayers();
    return architecture == Architecture.TWO_TOWER ? t[t.length - 1] + 1 : 0;
  }

  /** The network's layers and weights (for tests in this package). */
  Block block() {
    return block;
  }

  public int bestEpoch() {
    return bestEpoch;
  }

  /** The validation AUC of the kept epoch (NaN before one is kept). */
  public double bestValidationAuc() {
    return bestValidationAuc;
  }

  void snapshot(int epoch, double validationAuc) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      block.saveParameters(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    best = bytes.toByteArray();
    bestEpoch = epoch;
    bestValidationAuc = validationAuc;
  }

  void restoreBest() {
    if (best == null) {
      return;
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(best))) {
      block.loadParameters(trainer.getManager(), in);
    } catch (IOException | ai.djl.MalformedModelException e) {
      throw new IllegalStateException("cannot restore the best epoch's weights", e);
    }
  }

  /** Click probabilities of every row, by the training framework (inference mode). */
  public float[] predict(TrainInputs x) {
    float[] out = new float[x.size];
    int step = NetworkTrainer.evalBatch();
    try (NDManager m = trainer.getManager().newSubManager()) {
      ParameterStore ps = new ParameterStore(m, false);
      for (int from = 0; from < x.size; from += step) {
        int to = Math.min(x.size, from + step);
        try (NDManager bm = m.newSubManager()) {
          NDList in = x.batch(bm, null, from, to);
          NDArray logits = block.forward(ps, in, false).get(0);
          float[] p = logits.getNDArrayInternal().sigmoid().toFloatArray();
          System.arraycopy(p, 0, out, from, p.length);
        }
      }
    }
    return out;
  }

  /**
   * The ONNX model(s): {@code model} for every architecture, plus the towers of a two-tower; each
   * names the trainer's {@code build} and the {@code runId} in its metadata (either may be null).
   */
  public Map<String, byte[]> toOnnx(Standardization s, String build, String runId) {
    ModelMetadata meta =
        new ModelMetadata(
            FeatureSchema.VERSION,
            architecture.id,
            hyper.userBuckets(),
            hyper.itemBuckets(),
            build,
            runId);
    Map<String, byte[]> out = new LinkedHashMap<>();
    switch (architecture) {
      case MLP -> out.put("model", OnnxExport.mlp(mlpWeights(s), meta));
      case LOGISTIC -> out.put("model", OnnxExport.logistic(logisticWeights(s), meta));
      case TWO_TOWER -> {
        TwoTowerWeights w = twoTowerWeights(s);
        out.put("model", OnnxExport.twoTower(w, meta));
        out.put(ModelInputs.ROLE_USER_TOWER, OnnxExport.userTower(w, meta));
        out.put(ModelInputs.ROLE_ITEM_TOWER, OnnxExport.itemTower(w, meta));
      }
    }
    return out;
  }

  MlpWeights mlpWeights(Standardization s) {
    Blocks.Mlp b = (Blocks.Mlp) block;
    int dim = hyper.embeddingDim();
    List<Dense> hidden = denseLayers(b.hidden);
    hidden.set(
        0,
        s.fold(
            hidden.get(0),
            Standardization.columns(2 * dim, Group.USER, Group.ITEM, Group.CROSS, Group.CONTEXT)));
    return new MlpWeights(
        embedding(b.userEmb, hyper.userBuckets(), dim),
        embedding(b.itemEmb, hyper.itemBuckets(), dim),
        hidden,
        dense(b.output));
  }

  TwoTowerWeights twoTowerWeights(Standardization s) {
    Blocks.TwoTower b = (Blocks.TwoTower) block;
    int dim = hyper.embeddingDim();
    List<Dense> user = denseLayers(b.userTower);
    List<Dense> item = denseLayers(b.itemTower);
    user.set(0, s.fold(user.get(0), Standardization.columns(dim, Group.USER, Group.CONTEXT)));
    item.set(0, s.fold(item.get(0), Standardization.columns(dim, Group.ITEM)));
    // the global bias as one more component: user_vec gets a constant 1, item_vec the bias
    float bias = b.bias.getArray().toFloatArray()[0];
    user.set(user.size() - 1, withConstantOutput(user.get(user.size() - 1), 1f));
    item.set(item.size() - 1, withConstantOutput(item.get(item.size() - 1), bias));
    return new TwoTowerWeights(
        embedding(b.userEmb, hyper.userBuckets(), dim),
        embedding(b.itemEmb, hyper.itemBuckets(), dim),
        user,
        item);
  }

  LogisticWeights logisticWeights(Standardization s) {
    Blocks.Logistic b = (Blocks.Logistic) block;
    return new LogisticWeights(
        s.fold(
            dense(b.linear),
            Standardization.columns(0, Group.USER, Group.ITEM, Group.CROSS, Group.CONTEXT)));
  }

  /** {@code d} with one more output unit that ignores the input and always yields {@code value}. */
  static Dense withConstantOutput(Dense d, float value) {
    int out = d.out() + 1;
    float[] w = new float[d.in() * out];
    for (int i = 0; i < d.in(); i++) {
      System.arraycopy(d.weights(), i * d.out(), w, i * out, d.out());
    }
    float[] bias = java.util.Arrays.copyOf(d.bias(), out);
    bias[out - 1] = value;
    return new Dense(d.in(), out, w, bias);
  }

  /** The Linear layers of a stack, each with the BatchNorm that follows it folded in. */
  private static List<Dense> denseLayers(SequentialBlock stack) {
    List<Dense> out = new ArrayList<>();
    for (Pair<String, Block> child : stack.getChildren()) {
      Block c = child.getValue();
      if (c instanceof Linear l) {
        out.add(dense(l));
      } else if (c instanceof BatchNorm bn) {
        int last = out.size() - 1;
        out.set(
            last,
            out.get(last)
                .foldBatchNorm(
                    values(bn, "gamma"),
                    values(bn, "beta"),
                    values(bn, "runningMean"),
                    values(bn, "runningVar"),
                    Blocks.BATCH_NORM_EPSILON));
      }
    }
    return out;
  }

  /** DJL keeps Linear weights as {@code [out, in]}; ONNX export wants {@code [in][out]}. */
  private static Dense dense(Linear l) {
    NDArray w = l.getParameters().get("weight").getArray();
    int out = (int) w.getShape().get(0);
    int in = (int) w.getShape().get(1);
    float[] src = w.toFloatArray();
    float[] t = new float[src.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        t[i * out + o] = src[o * in + i];
      }
    }
    return new Dense(in, out, t, l.getParameters().get("bias").getArray().toFloatArray());
  }

  private static Embedding embedding(Parameter p, int buckets, int dim) {
    return new Embedding(buckets, dim, p.getArray().toFloatArray());
  }

  private static float[] values(Block b, String name) {
    return b.getParameters().get(name).getArray().toFloatArray();
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
  }
}
