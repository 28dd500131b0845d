package io.feedrank.simulator;

import io.feedrank.events.Device;

/**
 * The ground truth of who engages with what. The click logit is a sum of terms a ranking model can
 * learn from the platform's features: user-category affinity (seen through per-category decayed
 * counters), item quality (seen through item CTR), user cluster (through user activity and CTR),
 * hour of day against the user's habits, device, position and item age. Popularity alone carries
 * little of it, so a popularity ranking stays near AUC 0.55 while a model that learns the features
 * can pass 0.70.
 */
final class EngagementModel {
  static final double BASE_LOGIT = -2.3;
  static final double AFFINITY_WEIGHT = 0.85;
  static final double QUALITY_WEIGHT = 1.0;
  static final double HOUR_WEIGHT = 0.35;
  static final double DEVICE_MATCH_WEIGHT = 0.25;
  static final double POSITION_WEIGHT = -0.04;
  static final double AGE_WEIGHT = -0.15;

  /**
   * Click logit.
   *
   * @param affinity the user's affinity to the item's category, in (0, 1]; uniform is 1/categories
   * @param categories number of categories (sets the uniform level)
   * @param quality item's latent quality, ~N(0, 1)
   * @param clusterBias the user cluster's bias
   * @param hour hour of day of the event, UTC
   * @param peakHour the user's peak hour
   * @param device the event's device
   * @param primaryDevice the user's usual device
   * @param position 0-based position of the impression
   * @param itemAgeDays age of the item at the event, days, ≥ 0
   * @param shift extra logit added by a drift scenario (≤ 0 for CTR drops)
   */
  static double clickLogit(
      double affinity,
      int categories,
      double quality,
      double clusterBias,
      int hour,
      int peakHour,
      Device device,
      Device primaryDevice,
      int position,
      double itemAgeDays,
      double shift) {
    double affinityTerm = Math.max(-3, Math.min(3, Math.log(affinity * categories)));
    double hourTerm = Math.cos(2 * Math.PI * (hour - peakHour) / 24.0);
    double deviceTerm =
        (device == primaryDevice ? DEVICE_MATCH_WEIGHT : 0)
            + switch (device) {
              case DESKTOP -> 0.1;
              case TABLET -> -0.1;
              default -> 0.0;
            };
    return BASE_LOGIT
        + AFFINITY_WEIGHT * affinityTerm
        + QUALITY_WEIGHT * quality
        + clusterBias
        + HOUR_WEIGHT * hourTerm
        + deviceTerm
        + POSITION_WEIGHT * position
        + AGE_WEIGHT * Math.log1p(Math.max(0, itemAgeDays))
        + shift;
  }

  /** P(like | click). */
  static double likeGivenClick(double quality, double affinity, int categories) {
    double affinityTerm = Math.max(-3, Math.min(3, Math.log(affinity * categories)));
    return sigmoid(-1.2 + 0.8 * quality + 0.4 * affinityTerm);
  }

  /** P(share | click). */
  static double shareGivenClick(double quality) {
    return sigmoid(-3.0 + 0.6 * quality);
  }

  static double sigmoid(double x) {
    return 1.0 / (1.0 + Math.exp(-x));
  }

  private EngagementModel() {}
}
