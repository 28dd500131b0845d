package io.feedrank.models.onnx;

import io.feedrank.features.vector.Vectorizer;
import java.util.List;

/**
 * A two-tower model: the user tower reads {@code [user, context, userEmb]}, the item tower {@code
 * [item, itemEmb]}; ReLU between layers, none after the last; both end in the same dimension and
 * the score is {@code sigmoid(user_vec · item_vec)}. Cross features are not used: nothing of the
 * pair may enter a tower, or item vectors could not be precomputed.
 */
public record TwoTowerWeights(
    Embedding user, Embedding item, List<Dense> userTower, List<Dense> itemTower) {

  public TwoTowerWeights {
    userTower = List.copyOf(userTower);
    itemTower = List.copyOf(itemTower);
    if (userTower.isEmpty() || itemTower.isEmpty()) {
      throw new IllegalArgumentException("each tower needs at least one layer");
    }
    int u =
        Layers.chain(
            userTower, Vectorizer.USER_WIDTH + Vectorizer.CONTEXT_WIDTH + user.dim(), "userTower");
    int i = Layers.chain(itemTower, Vectorizer.ITEM_WIDTH + item.dim(), "itemTower");
    if (u != i) {
      throw new IllegalArgumentException(
          "towers end in different dimensions: user " + u + ", item " + i);
    }
  }

  public int dimension() {
    return userTower.get(userTower.size() - 1).out();
  }
}
