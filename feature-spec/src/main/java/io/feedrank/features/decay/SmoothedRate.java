package io.feedrank.features.decay;

/**
 * A rate shrunk toward a prior so that entities with few observations do not get extreme values:
 * {@code (successes + strength · prior) / (trials + strength)} (a Beta-prior posterior mean).
 */
public final class SmoothedRate {

  /**
   * @param successes e.g. decayed clicks, ≥ 0
   * @param trials e.g. decayed impressions, ≥ 0
   * @param prior the rate with no data, in [0, 1]
   * @param strength pseudo-trials the prior is worth, > 0
   */
  public static double of(double successes, double trials, double prior, double strength) {
    if (successes < 0 || trials < 0) {
      throw new IllegalArgumentException(
          "successes and trials must be >= 0, got " + successes + " / " + trials);
    }
    if (prior < 0 || prior > 1) {
      throw new IllegalArgumentException("prior must be within [0, 1], got " + prior);
    }
    if (!(strength > 0)) {
      throw new IllegalArgumentException("strength must be > 0, got " + strength);
    }
    return (successes + strength * prior) / (trials + strength);
  }

  private SmoothedRate() {}
}
