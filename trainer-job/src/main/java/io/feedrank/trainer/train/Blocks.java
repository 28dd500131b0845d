package io.feedrank.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import io.feedrank.trainer.data.Dataset;

/**
 * The three networks as DJL blocks. Each takes the six inputs of {@link TrainInputs} and returns
 * {@code [logits [N], penalty []]}: the logit of a click per row and the mean squared norm of the
 * embedding rows it looked up (the L2 term, zero for the logistic baseline). The sigmoid is applied
 * by the loss (on logits, for numerical stability) and by the exported graph.
 */
final class Blocks {
  static final byte VERSION = 1;
  static final int DENSE = Dataset.USER + Dataset.ITEM + Dataset.CROSS + Dataset.CONTEXT;
  static final float BATCH_NORM_EPSILON = 1e-5f;

  private Blocks() {}

  static Parameter embedding(String name, int buckets, int dim) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.WEIGHT)
        .optShape(new Shape(buckets, dim))
        .optInitializer(new NormalInitializer(0.01f))
        .build();
  }

  /**
   * Linear layers of {@code sizes}; after each but the last of a tower: BatchNorm?, ReLU, dropout.
   */
  static SequentialBlock stack(int[] sizes, boolean batchNorm, float dropout, boolean lastPlain) {
    SequentialBlock s = new SequentialBlock();
    for (int k = 0; k < sizes.length; k++) {
      s.add(Linear.builder().setUnits(sizes[k]).build());
      if (lastPlain && k == sizes.length - 1) {
        break;
      }
      if (batchNorm) {
        s.add(BatchNorm.builder().optEpsilon(BATCH_NORM_EPSILON).build());
      }
      s.add(Activation.reluBlock());
      if (dropout > 0) {
        s.add(Dropout.builder().optRate(dropout).build());
      }
    }
    return s;
  }

  static NDArray rows(ParameterStore ps, Parameter table, NDArray ids, boolean training) {
    NDArray t = ps.getValue(table, ids.getDevice(), training);
    return Embedding.embedding(ids, t, SparseFormat.DENSE).singletonOrThrow();
  }

  static NDArray meanSquaredNorm(NDArray a, NDArray b) {
    long n = a.getShape().get(0);
    return a.square().sum().add(b.square().sum()).div(n);
  }

  /** Deep MLP: [user, item, cross, context, userEmb, itemEmb] → hidden (BN, ReLU, dropout) → 1. */
  static final class Mlp extends AbstractBlock {
    final Parameter userEmb;
    final Parameter itemEmb;
    final SequentialBlock hidden;
    final Linear output;
    private final int dim;

    Mlp(Hyperparameters h) {
      super(VERSION);
      dim = h.embeddingDim();
      userEmb = addParameter(embedding("user_embedding", h.userBuckets(), dim));
      itemEmb = addParameter(embedding("item_embedding", h.itemBuckets(), dim));
      hidden = addChildBlock("hidden", stack(h.mlpLayers(), true, h.dropout(), false));
      output = addChildBlock("output", Linear.builder().setUnits(1).build());
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
      NDArray ue = rows(ps, userEmb, in.get(4), training);
      NDArray ie = rows(ps, itemEmb, in.get(5), training);
      NDArray z =
          NDArrays.concat(new NDList(in.get(0), in.get(1), in.get(2), in.get(3), ue, ie), 1);
      NDList h = hidden.forward(ps, new NDList(z), training);
      NDArray logits = output.forward(ps, h, training).singletonOrThrow().reshape(-1);
      return new NDList(logits, meanSquaredNorm(ue, ie));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
      return new Shape[] {new Shape(inputs[0].get(0)), new Shape()};
    }

    @Override
    protected void initializeChildBlocks(NDManager m, DataType t, Shape... inputs) {
      Shape z = new Shape(inputs[0].get(0), DENSE + 2L * dim);
      hidden.initialize(m, t, z);
      output.initialize(m, t, hidden.getOutputShapes(new Shape[] {z}));
    }
  }

  /**
   * Two towers: user [user, context, userEmb], item [item, itemEmb]; logit = dot product + a
   * learned global bias (the base rate; exported as one more vector component, see {@code
   * TrainedNetwork}).
   */
  static final class TwoTower extends AbstractBlock {
    final Parameter userEmb;
    final Parameter itemEmb;
    final Parameter bias;
    final SequentialBlock userTower;
    final SequentialBlock itemTower;
    private final int dim;

    TwoTower(Hyperparameters h) {
      super(VERSION);
      dim = h.embeddingDim();
      userEmb = addParameter(embedding("user_embedding", h.userBuckets(), dim));
      itemEmb = addParameter(embedding("item_embedding", h.itemBuckets(), dim));
      bias =
          addParameter(
              Parameter.builder()
                  .setName("bias")
                  .setType(Parameter.Type.BIAS)
                  .optShape(new Shape(1))
                  .build());
      userTower = addChildBlock("user_tower", stack(h.towerLayers(), false, 0f, true));
      itemTower = addChildBlock("item_tower", stack(h.towerLayers(), false, 0f, true));
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
      NDArray ue = rows(ps, userEmb, in.get(4), training);
      NDArray ie = rows(ps, itemEmb, in.get(5), training);
      NDArray u = NDArrays.concat(new NDList(in.get(0), in.get(3), ue), 1);
      NDArray i = NDArrays.concat(new NDList(in.get(1), ie), 1);
      NDArray uv = userTower.forward(ps, new NDList(u), training).singletonOrThrow();
      NDArray iv = itemTower.forward(ps, new NDList(i), training).singletonOrThrow();
      NDArray b = ps.getValue(bias, uv.getDevice(), training);
      return new NDList(uv.mul(iv).sum(new int[] {1}).add(b), meanSquaredNorm(ue, ie));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
      return new Shape[] {new Shape(inputs[0].get(0)), new Shape()};
    }

    @Override
    protected void initializeChildBlocks(NDManager m, DataType t, Shape... inputs) {
      long n = inputs[0].get(0);
      userTower.initialize(m, t, new Shape(n, Dataset.USER + Dataset.CONTEXT + dim));
      itemTower.initialize(m, t, new Shape(n, Dataset.ITEM + dim));
    }
  }

  /** Logistic regression on the dense groups. */
  static final class Logistic extends AbstractBlock {
    final Linear linear;

    Logistic() {
      super(VERSION);
      linear = addChildBlock("linear", Linear.builder().setUnits(1).build());
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
      NDArray z = NDArrays.concat(new NDList(in.get(0), in.get(1), in.get(2), in.get(3)), 1);
      NDArray logits = linear.forward(ps, new NDList(z), training).singletonOrThrow().reshape(-1);
      return new NDList(logits, logits.getManager().zeros(new Shape()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
      return new Shape[] {new Shape(inputs[0].get(0)), new Shape()};
    }

    @Override
    protected void initializeChildBlocks(NDManager m, DataType t, Shape... inputs) {
      linear.initialize(m, t, new Shape(inputs[0].get(0), DENSE));
    }
  }

  static Block of(Architecture a, Hyperparameters h) {
    return switch (a) {
      case MLP -> new Mlp(h);
      case TWO_TOWER -> new TwoTower(h);
      case LOGISTIC -> new Logistic();
    };
  }
}
