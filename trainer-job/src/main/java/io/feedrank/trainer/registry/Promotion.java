package io.feedrank.trainer.registry;

import io.feedrank.events.ModelComparison;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The promotion rules (DESIGN §4), as pure functions from the registry's state to the records to
 * write. A candidate is compared with production on the same holdout: ΔAUC ≥ {@code promoteDelta} →
 * PRODUCTION (the old one ARCHIVED); 0 < ΔAUC < {@code promoteDelta} → STAGING (for the A/B share;
 * an older staging version is archived); otherwise REJECTED. With no production model (or one of
 * another feature schema), the candidate must beat the logistic baseline trained on the same data.
 * A production model that could not be compared (its artifact unreadable, or it learned from the
 * holdout) gets the candidate rejected. Every decision carries its reason and the comparison.
 */
public final class Promotion {
  public static final String DECISION_PROMOTED = "PROMOTED";
  public static final String DECISION_STAGED = "STAGED";
  public static final String DECISION_REJECTED = "REJECTED";
  public static final String DECISION_ARCHIVED = "ARCHIVED";
  public static final String DECISION_ROLLED_BACK = "ROLLED_BACK";
  public static final String BASELINE = "logistic-baseline";

  /**
   * The production model's AUC on the candidate's holdout; or on the part of it production did not
   * learn from, with the candidate's AUC on that part ({@code compared} examples, {@code learned}
   * saying how many it did learn from); or why it could not be scored on the same rows ({@code
   * unscorable}: another feature schema; the logistic baseline rule applies) or not be compared
   * ({@code incomparable}: its artifact could not be scored, or it learned from the holdout; the
   * candidate is rejected).
   */
  public record ProductionScore(
      ModelVersion version,
      double auc,
      String unscorable,
      String incomparable,
      double candidateAuc,
      long compared,
      String learned) {
    public static ProductionScore scored(ModelVersion v, double auc) {
      return new ProductionScore(v, auc, null, null, Double.NaN, 0, null);
    }

    public static ProductionScore scoredOnUnseen(
        ModelVersion v, double auc, double candidateAuc, long compared, String learned) {
      return new ProductionScore(v, auc, null, null, candidateAuc, compared, learned);
    }

    public static ProductionScore unscorable(ModelVersion v, String why) {
      return new ProductionScore(v, Double.NaN, why, null, Double.NaN, 0, null);
    }

    public static ProductionScore incomparable(ModelVersion v, String why) {
      return new ProductionScore(v, Double.NaN, null, why, Double.NaN, 0, null);
    }
  }

  /** The candidate as decided, and every record to write (the candidate first). */
  public record Outcome(ModelVersion candidate, List<ModelVersion> updates) {}

  private Promotion() {}

  public static Outcome decide(
      ModelVersion candidate,
      double candidateAuc,
      double baselineAuc,
      Optional<ProductionScore> production,
      List<ModelVersion> registry,
      double promoteDelta,
      long holdout,
      Instant now) {
    ModelVersion.Builder c = ModelVersion.newBuilder(candidate).setUpdatedAt(now);
    List<ModelVersion> updates = new ArrayList<>();
    if (production.isEmpty() || production.get().unscorable() != null) {
      String context =
          production
              .map(
                  p ->
                      "production "
                          + p.version().getVersion()
                          + " could not be scored on the holdout ("
                          + p.unscorable()
                          + "); ")
              .orElse("first model: ");
      c.setComparison(comparison(BASELINE, candidateAuc, baselineAuc, holdout));
      if (candidateAuc > baselineAuc) {
        c.setStage(ModelStage.PRODUCTION)
            .setDecision(DECISION_PROMOTED)
            .setDecisionReason(
                context
                    + "AUC "
                    + f(candidateAuc)
                    + " beats the logistic baseline "
                    + f(baselineAuc));
        updates.add(c.build());
        archiveProduction(
            registry,
            candidate.getVersion(),
            "replaced by " + candidate.getVersion(),
            now,
            updates);
        archiveStaging(registry, candidate, now, updates);
      } else {
        c.setStage(ModelStage.REJECTED)
            .setDecision(DECISION_REJECTED)
            .setDecisionReason(
                context
                    + "AUC "
                    + f(candidateAuc)
                    + " does not beat the logistic baseline "
                    + f(baselineAuc));
        updates.add(c.build());
      }
      return new Outcome(updates.get(0), updates);
    }
    ProductionScore p = production.get();
    if (p.incomparable() != null) {
      c.setStage(ModelStage.REJECTED)
          .setDecision(DECISION_REJECTED)
          .setDecisionReason(
              "cannot be compared with production "
                  + p.version().getVersion()
                  + ": "
                  + p.incomparable()
                  + "; an operator may still promote it");
      updates.add(c.build());
      return new Outcome(updates.get(0), updates);
    }
    boolean part = p.compared() > 0;
    double candidateValue = part ? p.candidateAuc() : candidateAuc;
    long examples = part ? p.compared() : holdout;
    double delta = candidateValue - p.auc();
    c.setComparison(comparison(p.version().getVersion(), candidateValue, p.auc(), examples));
    String vs =
        "ΔAUC "
            + signed(delta)
            + " against production "
            + p.version().getVersion()
            + " ("
            + f(candidateValue)
            + " vs "
            + f(p.auc())
            + " on the same "
            + examples
            + " held-out examples"
            + (part ? " production did not learn from: " + p.learned() : "")
            + ")";
    if (delta >= promoteDelta) {
      c.setStage(ModelStage.PRODUCTION)
          .setDecision(DECISION_PROMOTED)
          .setDecisionReason(vs + " ≥ " + promoteDelta);
      updates.add(c.build());
      archiveProduction(
          registry,
          candidate.getVersion(),
          "replaced by " + candidate.getVersion() + ", " + vs,
          now,
          updates);
      archiveStaging(registry, candidate, now, updates);
    } else if (delta > 0) {
      c.setStage(ModelStage.STAGING)
          .setDecision(DECISION_STAGED)
          .setDecisionReason(vs + " > 0 but < " + promoteDelta + ": A/B share");
      updates.add(c.build());
      archiveStaging(registry, candidate, now, updates);
    } else {
      c.setStage(ModelStage.REJECTED).setDecision(DECISION_REJECTED).setDecisionReason(vs + " ≤ 0");
      updates.add(c.build());
    }
    return new Outcome(updates.get(0), updates);
  }

  /**
   * An operator's promotion of {@code version} to production: the current one is archived, and so
   * is a staging version (its A/B share was measured against the production now replaced).
   */
  public static List<ModelVersion> promote(
      List<ModelVersion> registry, String version, String reason, Instant now) {
    ModelVersion target = find(registry, version);
    if (target.getStage() == ModelStage.PRODUCTION) {
      throw new IllegalArgumentException("version " + version + " is already in production");
    }
    Optional<ModelVersion> replaced = ModelRegistry.newest(registry, ModelStage.PRODUCTION);
    List<ModelVersion> updates = new ArrayList<>();
    updates.add(
        ModelVersion.newBuilder(target)
            .setStage(ModelStage.PRODUCTION)
            .setUpdatedAt(now)
            .setDecision(DECISION_PROMOTED)
            .setDecisionReason(reason + " (was " + target.getStage() + ")")
            // what it replaces now, not the production of its training: a rollback goes back to it
            .setParentVersion(replaced.map(ModelVersion::getVersion).orElse(null))
            .build());
    archiveProduction(registry, version, "replaced by " + version + ": " + reason, now, updates);
    archiveStaging(registry, target, now, updates);
    return updates;
  }

  /**
   * Rollback: production goes back to the version the current one replaced (its {@code
   * parent_version}); the current one is archived as rolled back, and a staging version (compared
   * with the current one) is archived.
   */
  public static List<ModelVersion> rollback(List<ModelVersion> registry, Instant now) {
    return rollback(registry, null, now);
  }

  /**
   * {@link #rollback(List, Instant)}, {@code who} (who rolled back and why, e.g. {@code by operator
   * alice: CTR dropped}; null for none) appended to every decision reason it writes.
   */
  public static List<ModelVersion> rollback(List<ModelVersion> registry, String who, Instant now) {
    String by = who == null ? "" : " " + who;
    ModelVersion current =
        ModelRegistry.newest(registry, ModelStage.PRODUCTION)
            .orElseThrow(() -> new IllegalStateException("no production model to roll back"));
    if (current.getParentVersion() == null) {
      throw new IllegalStateException(
          "production "
              + current.getVersion()
              + " replaced nothing: there is no version to roll back to");
    }
    ModelVersion parent = find(registry, current.getParentVersion());
    List<ModelVersion> updates = new ArrayList<>();
    updates.add(
        ModelVersion.newBuilder(parent)
            .setStage(ModelStage.PRODUCTION)
            .setUpdatedAt(now)
            .setDecision(DECISION_ROLLED_BACK)
            .setDecisionReason("restored by rollback of " + current.getVersion() + by)
            .build());
    updates.add(
        ModelVersion.newBuilder(current)
            .setStage(ModelStage.ARCHIVED)
            .setUpdatedAt(now)
            .setDecision(DECISION_ROLLED_BACK)
            .setDecisionReason("rolled back to " + parent.getVersion() + by)
            .build());
    for (ModelVersion v : registry) {
      if (v.getStage() == ModelStage.PRODUCTION
          && !v.getVersion().equals(current.getVersion())
          && !v.getVersion().equals(parent.getVersion())) {
        updates.add(archive(v, "rolled back to " + parent.getVersion() + by, now));
      }
    }
    archiveStaging(registry, parent, now, updates);
    return updates;
  }

  /**
   * An operator's archive of a STAGING version (it ends its A/B share: nothing else does but a new
   * production, as a rejected candidate leaves it alone) or of a CANDIDATE one (a run that never
   * decided on it). A production version is not archived this way, which would leave nothing in
   * production: another one is promoted, or production rolled back.
   */
  public static List<ModelVersion> archive(
      List<ModelVersion> registry, String version, String reason, Instant now) {
    ModelVersion target = find(registry, version);
    ModelStage stage = target.getStage();
    if (stage == ModelStage.PRODUCTION) {
      throw new IllegalArgumentException(
          "version "
              + version
              + " is in production and is not archived: promote another version"
              + " (registry promote) or roll back (registry rollback)");
    }
    if (stage != ModelStage.STAGING && stage != ModelStage.CANDIDATE) {
      throw new IllegalArgumentException(
          "version " + version + " is " + stage + ": only a STAGING or CANDIDATE one is archived");
    }
    return List.of(archive(target, reason + " (was " + stage + ")", now));
  }

  /**
   * Archives every production version but {@code keep}: there is one, unless two writers once
   * decided on the same state (before they were serialized), and a new production version ends that
   * too.
   */
  private static void archiveProduction(
      List<ModelVersion> registry,
      String keep,
      String reason,
      Instant now,
      List<ModelVersion> updates) {
    for (ModelVersion v : registry) {
      if (v.getStage() == ModelStage.PRODUCTION && !v.getVersion().equals(keep)) {
        updates.add(archive(v, reason, now));
      }
    }
  }

  private static void archiveStaging(
      List<ModelVersion> registry,
      ModelVersion candidate,
      Instant now,
      List<ModelVersion> updates) {
    for (ModelVersion v : registry) {
      if (v.getStage() == ModelStage.STAGING && !v.getVersion().equals(candidate.getVersion())) {
        updates.add(archive(v, "superseded by " + candidate.getVersion(), now));
      }
    }
  }

  private static ModelVersion archive(ModelVersion v, String reason, Instant now) {
    return ModelVersion.newBuilder(v)
        .setStage(ModelStage.ARCHIVED)
        .setUpdatedAt(now)
        .setDecision(DECISION_ARCHIVED)
        .setDecisionReason(reason)
        .build();
  }

  private static ModelVersion find(List<ModelVersion> registry, String version) {
    return registry.stream()
        .filter(v -> v.getVersion().equals(version))
        .findFirst()
        .orElseThrow(
            () -> new IllegalArgumentException("no version '" + version + "' in the registry"));
  }

  private static ModelComparison comparison(
      String against, double candidate, double production, long holdout) {
    return ModelComparison.newBuilder()
        .setAgainstVersion(against)
        .setMetric("auc")
        .setCandidateValue(candidate)
        .setProductionValue(production)
        .setDelta(candidate - production)
        .setHoldoutExamples(holdout)
        .build();
  }

  private static String f(double v) {
    return String.format(java.util.Locale.ROOT, "%.4f", v);
  }

  private static String signed(double v) {
    return String.format(java.util.Locale.ROOT, "%+.4f", v);
  }
}
