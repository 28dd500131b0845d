package io.feedrank.models.profile;

import io.feedrank.events.ReferenceProfile;
import io.feedrank.events.TrainingExample;
import io.feedrank.features.FeatureSchema;
import java.util.List;

/**
 * The reference profile of the raw features of training examples: every user, item and cross
 * feature as NUMERIC under its {@link FeatureSchema} name (in schema order), then {@value
 * #HOUR_OF_DAY} (NUMERIC), {@value #DEVICE} and {@value #ITEM_CATEGORY} (CATEGORICAL); and the
 * model's scores on the same rows as the PREDICTION profile, whole and per UTC hour of day of the
 * rows. The drift job looks features up by these names.
 */
public final class TrainingProfiles {
  public static final String HOUR_OF_DAY = "hour_of_day";
  public static final String DEVICE = "device";
  public static final String ITEM_CATEGORY = "item_category";

  private TrainingProfiles() {}

  /** With {@link ProfileBuilder}'s defaults. */
  public static ReferenceProfile of(Iterable<TrainingExample> examples, float[] scores) {
    return of(examples, scores, ProfileBuilder.DEFAULT_K, ProfileBuilder.DEFAULT_MAX_CATEGORIES);
  }

  /**
   * @param examples holdout rows of feature schema {@link FeatureSchema#VERSION}
   * @param scores the model's score of each row, parallel to {@code examples}; null for a profile
   *     without a score distribution
   * @param k KLL accuracy parameter of the numeric sketches
   * @param maxCategories categories kept per categorical feature before {@link
   *     ProfileBuilder#OTHER}
   * @throws IllegalArgumentException on another schema version, a feature array of the wrong
   *     length, a non-finite value, not as many scores as rows, or (with scores) an hour of day
   *     outside 0-23
   */
  public static ReferenceProfile of(
      Iterable<TrainingExample> examples, float[] scores, int k, int maxCategories) {
    ProfileBuilder b = new ProfileBuilder(k, maxCategories);
    Group user = register(b, "user_features", FeatureSchema.USER);
    Group item = register(b, "item_features", FeatureSchema.ITEM);
    Group cross = register(b, "cross_features", FeatureSchema.CROSS);
    int hour = b.numeric(HOUR_OF_DAY);
    int device = b.categorical(DEVICE);
    int category = b.categorical(ITEM_CATEGORY);
    long rows = 0;
    for (TrainingExample e : examples) {
      if (e.getFeatureSchemaVersion() != FeatureSchema.VERSION) {
        throw new IllegalArgumentException(
            "example "
                + e.getInteractionId()
                + ": feature_schema_version "
                + e.getFeatureSchemaVersion()
                + ", profiles are built for version "
                + FeatureSchema.VERSION);
      }
      add(b, user, e.getUserFeatures(), e);
      add(b, item, e.getItemFeatures(), e);
      add(b, cross, e.getCrossFeatures(), e);
      b.add(hour, e.getHourOfDay());
      b.addCategory(device, e.getDevice().name());
      b.addCategory(category, e.getItemCategory());
      if (scores != null) {
        if (rows >= scores.length) {
          throw new IllegalArgumentException(
              "scores: " + scores.length + " scores but more examples");
        }
        b.score(scores[(int) rows], e.getHourOfDay());
      }
      rows++;
    }
    if (scores != null && rows != scores.length) {
      throw new IllegalArgumentException(
          "scores: " + scores.length + " scores for " + rows + " examples");
    }
    return b.build(rows);
  }

  /** A feature array of {@code TrainingExample}: its field, length and first builder index. */
  private record Group(String field, int size, int first) {}

  private static Group register(ProfileBuilder b, String field, List<String> names) {
    int first = -1;
    for (String name : names) {
      int index = b.numeric(name);
      first = first < 0 ? index : first;
    }
    return new Group(field, names.size(), first);
  }

  private static void add(ProfileBuilder b, Group g, List<Double> values, TrainingExample e) {
    if (values.size() != g.size()) {
      throw new IllegalArgumentException(
          "example "
              + e.getInteractionId()
              + ": "
              + g.field()
              + " has "
              + values.size()
              + " values, schema version "
              + FeatureSchema.VERSION
              + " has "
              + g.size());
    }
    for (int i = 0; i < g.size(); i++) {
      b.add(g.first() + i, values.get(i));
    }
  }
}
