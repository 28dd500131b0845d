package io.feedrank.trainer.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

public class PromotionTest {
  static final Instant T0 = Instant.parse("2026-11-20T00:00:00Z");
  static final Instant NOW = Instant.parse("2026-11-23T00:00:00Z");

  /** A version of {@code feed-ranker}, also for other tests. */
  public static ModelVersion version(String v, ModelStage stage, String parent, Instant updated) {
    return ModelVersion.newBuilder()
        .setModelName("feed-ranker")
        .setVersion(v)
        .setStage(stage)
        .setArchitecture("mlp")
        .setCreatedAt(updated)
        .setUpdatedAt(updated)
        .setArtifactUri("file:/x/" + v)
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .setParentVersion(parent)
        .build();
  }

  static final ModelVersion PROD = version("p1", ModelStage.PRODUCTION, null, T0);
  static final ModelVersion STAGED = version("s1", ModelStage.STAGING, "p1", T0.plusSeconds(60));
  static final ModelVersion CANDIDATE = version("c1", ModelStage.CANDIDATE, "p1", NOW);

  static Promotion.Outcome decide(double candidateAuc, double productionAuc) {
    return Promotion.decide(
        CANDIDATE,
        candidateAuc,
        0.60,
        Optional.of(Promotion.ProductionScore.scored(PROD, productionAuc)),
        List.of(PROD, STAGED),
        0.01,
        5_000,
        NOW);
  }

  static Map<String, ModelStage> stages(List<ModelVersion> updates) {
    return updates.stream()
        .collect(
            java.util.stream.Collectors.toMap(ModelVersion::getVersion, ModelVersion::getStage));
  }

  @Test
  void promotesWhenAucGainsAtLeastOnePoint() {
    Promotion.Outcome o = decide(0.7400, 0.7300);
    assertThat(o.candidate().getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(o.candidate().getDecision()).isEqualTo(Promotion.DECISION_PROMOTED);
    assertThat(stages(o.updates()))
        .containsEntry("c1", ModelStage.PRODUCTION)
        .containsEntry("p1", ModelStage.ARCHIVED)
        .containsEntry("s1", ModelStage.ARCHIVED);
    assertThat(o.candidate().getComparison().getAgainstVersion()).isEqualTo("p1");
    assertThat(o.candidate().getComparison().getDelta())
        .isCloseTo(0.01, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(o.candidate().getComparison().getHoldoutExamples()).isEqualTo(5_000);
    assertThat(o.updates()).allMatch(v -> v.getUpdatedAt().equals(NOW));
  }

  @Test
  void stagesASmallGainForTheAbShareAndArchivesTheOlderStaging() {
    Promotion.Outcome o = decide(0.7350, 0.7300);
    assertThat(stages(o.updates()))
        .containsEntry("c1", ModelStage.STAGING)
        .containsEntry("s1", ModelStage.ARCHIVED)
        .doesNotContainKey("p1");
    assertThat(o.candidate().getDecisionReason()).contains("+0.0050").contains("p1");
  }

  @Test
  void rejectsNoGainOrALoss() {
    for (double c : new double[] {0.7300, 0.7000}) {
      Promotion.Outcome o = decide(c, 0.7300);
      assertThat(o.updates()).hasSize(1);
      assertThat(o.candidate().getStage()).isEqualTo(ModelStage.REJECTED);
      assertThat(o.candidate().getDecisionReason()).contains("≤ 0");
    }
  }

  @Test
  void firstModelGoesToProductionOnlyIfItBeatsTheLogisticBaseline() {
    Promotion.Outcome good =
        Promotion.decide(CANDIDATE, 0.61, 0.60, Optional.empty(), List.of(), 0.01, 100, NOW);
    assertThat(good.candidate().getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(good.candidate().getComparison().getAgainstVersion()).isEqualTo(Promotion.BASELINE);
    assertThat(good.candidate().getDecisionReason()).startsWith("first model");
    Promotion.Outcome bad =
        Promotion.decide(CANDIDATE, 0.60, 0.60, Optional.empty(), List.of(), 0.01, 100, NOW);
    assertThat(bad.candidate().getStage()).isEqualTo(ModelStage.REJECTED);
    assertThat(bad.candidate().getDecisionReason()).contains("does not beat the logistic baseline");
  }

  @Test
  void aProductionModelOfAnotherFeatureSchemaIsReplacedByACandidateThatBeatsTheBaseline() {
    Promotion.Outcome o =
        Promotion.decide(
            CANDIDATE,
            0.70,
            0.60,
            Optional.of(Promotion.ProductionScore.unscorable(PROD, "feature schema 1 is not 2")),
            List.of(PROD),
            0.01,
            100,
            NOW);
    assertThat(stages(o.updates()))
        .containsEntry("c1", ModelStage.PRODUCTION)
        .containsEntry("p1", ModelStage.ARCHIVED);
    assertThat(o.candidate().getDecisionReason()).contains("feature schema 1 is not 2");
  }

  @Test
  void onThePartOfTheHoldoutProductionDidNotLearnFromBothAreJudgedByTheirAucThere() {
    // on the whole holdout the candidate would lose (0.70 against production's 0.75 there); on
    // the 1,200 examples production did not learn from it gains 0.02
    Promotion.Outcome o =
        Promotion.decide(
            CANDIDATE,
            0.70,
            0.60,
            Optional.of(
                Promotion.ProductionScore.scoredOnUnseen(
                    PROD, 0.71, 0.73, 1_200, "800 of the 2000 held-out examples are in ...")),
            List.of(PROD),
            0.01,
            2_000,
            NOW);
    assertThat(o.candidate().getStage()).isEqualTo(ModelStage.PRODUCTION);
    assertThat(o.candidate().getComparison().getHoldoutExamples()).isEqualTo(1_200);
    assertThat(o.candidate().getComparison().getCandidateValue()).isEqualTo(0.73);
    assertThat(o.candidate().getComparison().getProductionValue()).isEqualTo(0.71);
    assertThat(o.candidate().getDecisionReason())
        .contains("+0.0200")
        .contains("1200 held-out examples production did not learn from: 800 of the 2000");
  }

  @Test
  void aCandidateThatCannotBeComparedFairlyIsRejectedWithoutAComparison() {
    Promotion.Outcome o =
        Promotion.decide(
            CANDIDATE,
            0.90,
            0.60,
            Optional.of(Promotion.ProductionScore.incomparable(PROD, "all of it learned from")),
            List.of(PROD, STAGED),
            0.01,
            2_000,
            NOW);
    assertThat(o.updates()).singleElement().satisfies(v -> assertThat(v).isEqualTo(o.candidate()));
    assertThat(o.candidate().getStage()).isEqualTo(ModelStage.REJECTED);
    assertThat(o.candidate().getComparison()).isNull();
    assertThat(o.candidate().getDecisionReason())
        .isEqualTo(
            "cannot be compared with production p1: all of it learned from; an operator may still"
                + " promote it");
  }

  @Test
  void operatorPromotionArchivesTheCurrentProduction() {
    ModelVersion rejected = version("r1", ModelStage.REJECTED, "p1", T0.plusSeconds(5));
    List<ModelVersion> u = Promotion.promote(List.of(PROD, rejected), "r1", "by operator", NOW);
    assertThat(stages(u))
        .containsEntry("r1", ModelStage.PRODUCTION)
        .containsEntry("p1", ModelStage.ARCHIVED);
    assertThatThrownBy(() -> Promotion.promote(List.of(PROD), "p1", "x", NOW))
        .hasMessageContaining("already in production");
    assertThatThrownBy(() -> Promotion.promote(List.of(PROD), "nope", "x", NOW))
        .hasMessageContaining("no version 'nope'");
  }

  @Test
  void aRollbackAfterAnOperatorsPromotionRestoresTheVersionThatPromotionReplaced() {
    // p1 in production; s1 (trained against p1) staged; c3 (also trained against p1) promoted
    ModelVersion s1 = version("s1", ModelStage.STAGING, "p1", T0.plusSeconds(60));
    ModelVersion p1 = version("p1", ModelStage.ARCHIVED, null, T0.plusSeconds(120));
    ModelVersion c3 = version("c3", ModelStage.PRODUCTION, "p1", T0.plusSeconds(120));
    List<ModelVersion> registry = new java.util.ArrayList<>(List.of(p1, s1, c3));

    List<ModelVersion> promoted = Promotion.promote(registry, "s1", "by operator", NOW);
    assertThat(promoted.get(0).getParentVersion()).isEqualTo("c3");
    registry = apply(registry, promoted);

    List<ModelVersion> rolledBack = Promotion.rollback(registry, NOW.plusSeconds(60));
    assertThat(stages(rolledBack))
        .containsEntry("c3", ModelStage.PRODUCTION)
        .containsEntry("s1", ModelStage.ARCHIVED);
  }

  @Test
  void anOperatorsPromotionWithNothingInProductionReplacesNothing() {
    ModelVersion r1 = version("r1", ModelStage.REJECTED, "p0", T0);
    List<ModelVersion> u = Promotion.promote(List.of(r1), "r1", "by operator", NOW);
    assertThat(u).hasSize(1);
    assertThat(u.get(0).getParentVersion()).isNull();
    assertThatThrownBy(() -> Promotion.rollback(u, NOW)).hasMessageContaining("replaced nothing");
  }

  /**
   * A staging version was measured against the production an operator's promotion or a rollback
   * replaces: both archive it, as a run's promotion does, so that its A/B share ends.
   */
  @Test
  void anOperatorsPromotionAndARollbackArchiveTheStagingVersion() {
    ModelVersion p0 = version("p0", ModelStage.ARCHIVED, null, T0.minusSeconds(60));
    ModelVersion p1 = version("p1", ModelStage.PRODUCTION, "p0", T0);
    ModelVersion s1 = version("s1", ModelStage.STAGING, "p1", T0.plusSeconds(60));
    ModelVersion r1 = version("r1", ModelStage.REJECTED, "p1", T0.plusSeconds(90));
    List<ModelVersion> registry = List.of(p0, p1, s1, r1);
    assertThat(stages(Promotion.promote(registry, "r1", "by operator", NOW)))
        .containsOnly(
            Map.entry("r1", ModelStage.PRODUCTION),
            Map.entry("p1", ModelStage.ARCHIVED),
            Map.entry("s1", ModelStage.ARCHIVED));
    assertThat(stages(Promotion.rollback(registry, NOW)))
        .containsOnly(
            Map.entry("p0", ModelStage.PRODUCTION),
            Map.entry("p1", ModelStage.ARCHIVED),
            Map.entry("s1", ModelStage.ARCHIVED));
    // the staging version itself promoted: it is the production one, not archived
    assertThat(stages(Promotion.promote(registry, "s1", "by operator", NOW)))
        .containsOnly(Map.entry("s1", ModelStage.PRODUCTION), Map.entry("p1", ModelStage.ARCHIVED));
  }

  /**
   * Two production versions (two writers once decided on the same state): whatever makes a version
   * production next archives both others, so one is left.
   */
  @Test
  void aNewProductionVersionArchivesEveryOtherOne() {
    ModelVersion p0 = version("p0", ModelStage.ARCHIVED, null, T0.minusSeconds(60));
    ModelVersion pa = version("pa", ModelStage.PRODUCTION, "p0", T0);
    ModelVersion pb = version("pb", ModelStage.PRODUCTION, "p0", T0.plusSeconds(30));
    List<ModelVersion> registry = List.of(p0, pa, pb, CANDIDATE);
    Promotion.Outcome run =
        Promotion.decide(
            CANDIDATE,
            0.80,
            0.60,
            Optional.of(Promotion.ProductionScore.scored(pb, 0.70)),
            registry,
            0.01,
            5_000,
            NOW);
    assertThat(stages(run.updates()))
        .containsOnly(
            Map.entry("c1", ModelStage.PRODUCTION),
            Map.entry("pa", ModelStage.ARCHIVED),
            Map.entry("pb", ModelStage.ARCHIVED));
    assertThat(stages(Promotion.promote(registry, "p0", "by operator", NOW)))
        .containsOnly(
            Map.entry("p0", ModelStage.PRODUCTION),
            Map.entry("pa", ModelStage.ARCHIVED),
            Map.entry("pb", ModelStage.ARCHIVED));
    assertThat(stages(Promotion.rollback(registry, NOW)))
        .containsOnly(
            Map.entry("p0", ModelStage.PRODUCTION),
            Map.entry("pa", ModelStage.ARCHIVED),
            Map.entry("pb", ModelStage.ARCHIVED));
  }

  /** The registry after {@code updates}: each replaces the record of its version. */
  static List<ModelVersion> apply(List<ModelVersion> registry, List<ModelVersion> updates) {
    Map<String, ModelVersion> byVersion = new java.util.LinkedHashMap<>();
    registry.forEach(v -> byVersion.put(v.getVersion(), v));
    updates.forEach(v -> byVersion.put(v.getVersion(), v));
    return List.copyOf(byVersion.values());
  }

  @Test
  void rollbackRestoresTheVersionProductionReplaced() {
    ModelVersion old = version("p0", ModelStage.ARCHIVED, null, T0.minusSeconds(60));
    ModelVersion current = version("p1", ModelStage.PRODUCTION, "p0", T0);
    List<ModelVersion> u = Promotion.rollback(List.of(old, current), NOW);
    assertThat(stages(u))
        .containsEntry("p0", ModelStage.PRODUCTION)
        .containsEntry("p1", ModelStage.ARCHIVED);
    assertThat(u).allMatch(v -> Promotion.DECISION_ROLLED_BACK.equals(v.getDecision()));
    assertThatThrownBy(() -> Promotion.rollback(List.of(old), NOW))
        .hasMessageContaining("no production");
    assertThatThrownBy(() -> Promotion.rollback(List.of(PROD), NOW))
        .hasMessageContaining("replaced nothing");
  }
}
