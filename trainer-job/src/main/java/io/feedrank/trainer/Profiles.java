package io.feedrank.trainer;

import io.feedrank.events.ReferenceProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.models.profile.ProfileBuilder;
import io.feedrank.trainer.data.Example;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The reference profile of a model: the raw features of its holdout (every user, item and cross
 * feature by its schema name, the hour of day, the device and the item category) and its scores on
 * them, all of them and those of each UTC hour of day of the rows — what the drift job compares
 * live traffic with.
 */
final class Profiles {
  private Profiles() {}

  static ReferenceProfile of(List<Example> holdout, float[] scores) {
    ProfileBuilder b = new ProfileBuilder();
    int user = register(b, FeatureSchema.USER);
    int item = register(b, FeatureSchema.ITEM);
    int cross = register(b, FeatureSchema.CROSS);
    int hour = b.numeric("hour_of_day");
    int device = b.categorical("device");
    int category = b.categorical("item_category");
    for (int r = 0; r < holdout.size(); r++) {
      Example e = holdout.get(r);
      add(b, user, e.user());
      add(b, item, e.item());
      add(b, cross, e.cross());
      b.add(hour, e.hourOfDay());
      b.addCategory(device, e.device().name());
      b.addCategory(category, e.category());
      b.score(scores[r], e.hourOfDay());
    }
    return b.build(holdout.size());
  }

  /**
   * {@code base} with the score distributions of {@code scores}, whole and by hour, on the same
   * holdout rows ({@code holdout}, whose profile {@code base} is).
   */
  static ReferenceProfile withScores(ReferenceProfile base, List<Example> holdout, float[] scores) {
    ProfileBuilder b = new ProfileBuilder();
    for (int r = 0; r < holdout.size(); r++) {
      b.score(scores[r], holdout.get(r).hourOfDay());
    }
    ReferenceProfile p = b.build(base.getN());
    return ReferenceProfile.newBuilder(base)
        .setScore(p.getScore())
        .setScoreByHour(p.getScoreByHour())
        .build();
  }

  static byte[] bytes(ReferenceProfile p) {
    try {
      ByteBuffer b = p.toByteBuffer();
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int register(ProfileBuilder b, List<String> names) {
    int first = -1;
    for (String n : names) {
      int i = b.numeric(n);
      first = first < 0 ? i : first;
    }
    return first;
  }

  private static void add(ProfileBuilder b, int first, double[] values) {
    for (int i = 0; i < values.length; i++) {
      b.add(first + i, values[i]);
    }
  }
}
