package io.feedrank.features;

import io.feedrank.features.decay.HalfLife;
import java.util.ArrayList;
import java.util.List;

/**
 * The features of schema version {@value #VERSION}: their names and order in {@code
 * TrainingExample.user_features / item_features / cross_features} and in the model's input, and the
 * constants their definitions use. Changing a definition means a new version; a model records the
 * version it was trained on and the ranker refuses a model whose version it cannot build.
 *
 * <p>Rolling counters are decayed sums (see {@link io.feedrank.features.decay.DecayedCounter}) of
 * impressions, clicks, likes, shares and dwell seconds per half-life (1 h, 1 d, 7 d), read at the
 * time the features are wanted. "Never" times are {@link #NEVER}.
 */
public final class FeatureSchema {
  public static final int VERSION = 1;

  /** Prior CTR and its strength in pseudo-impressions for smoothed CTRs. */
  public static final double CTR_PRIOR = 0.1;

  public static final double CTR_PRIOR_STRENGTH = 5.0;

  /** Prior like and share rates per impression. */
  public static final double LIKE_PRIOR = 0.025;

  public static final double SHARE_PRIOR = 0.005;

  /** Value of "hours/days since" features when the thing never happened. */
  public static final double NEVER = 10_000.0;

  /** The counted quantities, in slot order. */
  public enum Engagement {
    IMPRESSIONS("impressions"),
    CLICKS("clicks"),
    LIKES("likes"),
    SHARES("shares"),
    DWELL("dwell");

    public final String label;

    Engagement(String label) {
      this.label = label;
    }

    /** Slot of this quantity at a half-life in an engagement vector. */
    public int slot(HalfLife h) {
      return ordinal() * HALF_LIFE_COUNT + h.ordinal();
    }
  }

  private static final int HALF_LIFE_COUNT = HalfLife.values().length;

  /** Slots of an engagement vector: every {@link Engagement} × every {@link HalfLife}. */
  public static final int ENGAGEMENT_SLOTS = Engagement.values().length * HalfLife.values().length;

  /** Hour-of-day blocks of the user's activity profile (UTC): [0,4), [4,8), ... [20,24). */
  public static final int HOUR_BLOCKS = 6;

  /**
   * Names of the engagement counters without prefix, in slot order: {@code impressions_1h, ...}.
   */
  public static List<String> engagementNames() {
    List<String> names = new ArrayList<>();
    for (Engagement e : Engagement.values()) {
      for (HalfLife h : HalfLife.values()) {
        names.add(e.label + "_" + h.suffix());
      }
    }
    return names;
  }

  public static final List<String> USER = buildUser();
  public static final List<String> ITEM = buildItem();
  public static final List<String> CROSS =
      List.of(
          "uc_impressions_1d",
          "uc_clicks_1d",
          "uc_impressions_7d",
          "uc_clicks_7d",
          "uc_ctr_7d",
          "uc_attention_share_7d",
          "uc_hours_since_last_click");

  /** Whether this code can build features of {@code version}. */
  public static boolean canBuild(int version) {
    return version == VERSION;
  }

  private static List<String> buildUser() {
    List<String> n = new ArrayList<>();
    engagementNames().forEach(s -> n.add("u_" + s));
    for (HalfLife h : HalfLife.values()) {
      n.add("u_ctr_" + h.suffix());
    }
    n.add("u_lifetime_events");
    n.add("u_account_age_days");
    n.add("u_days_since_first_seen");
    n.add("u_hours_since_last_seen");
    n.add("u_device_mobile");
    n.add("u_device_desktop");
    n.add("u_device_tablet");
    n.add("u_device_unknown");
    for (int b = 0; b < HOUR_BLOCKS; b++) {
      n.add(String.format("u_hours_%02d_%02d", b * 4, b * 4 + 4));
    }
    return List.copyOf(n);
  }

  private static List<String> buildItem() {
    List<String> n = new ArrayList<>();
    engagementNames().forEach(s -> n.add("i_" + s));
    for (HalfLife h : HalfLife.values()) {
      n.add("i_ctr_" + h.suffix());
    }
    n.add("i_like_rate_7d");
    n.add("i_share_rate_7d");
    n.add("i_avg_dwell_7d");
    n.add("i_age_days");
    n.add("i_content_length");
    n.add("i_lifetime_events");
    return List.copyOf(n);
  }

  private FeatureSchema() {}
}
