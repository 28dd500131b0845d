package io.feedrank.trainer.registry;

import static io.feedrank.trainer.registry.PromotionTest.version;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code registry archive}: the operator's way to end an A/B test (a rejected candidate leaves the
 * staging version alone, and promote refuses the version already in production), and to retire a
 * candidate no run decided on; production is not archived.
 */
class RegistryCommandsTest {
  static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
  static final Instant NOW = Instant.parse("2026-12-02T00:00:00Z");

  final Registry registry = new Registry();

  /** The registry in memory: the newest record per version is its state. */
  static final class Registry implements ModelRegistry {
    final Map<String, ModelVersion> state = new HashMap<>();
    final List<ModelVersion> published = new ArrayList<>();

    @Override
    public List<ModelVersion> versions(String modelName) {
      return List.copyOf(state.values());
    }

    @Override
    public void publish(List<ModelVersion> updates) {
      published.addAll(updates);
      updates.forEach(v -> state.put(v.getVersion(), v));
    }

    ModelStage stage(String version) {
      return state.get(version).getStage();
    }
  }

  RegistryCommands commands() {
    return new RegistryCommands(registry, "feed-ranker", Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @BeforeEach
  void productionStagingACandidateAndARejectedVersion() {
    registry.publish(
        List.of(
            version("p1", ModelStage.PRODUCTION, null, T0),
            version("s", ModelStage.STAGING, "p1", T0.plusSeconds(60)),
            version("c", ModelStage.CANDIDATE, "p1", T0.plusSeconds(120)),
            version("r", ModelStage.REJECTED, "p1", T0.plusSeconds(180))));
    registry.published.clear();
  }

  @Test
  void archivingTheStagingVersionEndsItsShareAndLeavesProductionAlone() {
    List<ModelVersion> written = commands().archive("s", "A/B test ended");

    assertThat(written)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getVersion()).isEqualTo("s");
              assertThat(v.getStage()).isEqualTo(ModelStage.ARCHIVED);
              assertThat(v.getDecision()).isEqualTo(Promotion.DECISION_ARCHIVED);
              assertThat(v.getDecisionReason()).isEqualTo("A/B test ended (was STAGING)");
              assertThat(v.getUpdatedAt()).isEqualTo(NOW);
            });
    assertThat(registry.published).isEqualTo(written);
    assertThat(registry.stage("s")).isEqualTo(ModelStage.ARCHIVED);
    assertThat(registry.stage("p1")).isEqualTo(ModelStage.PRODUCTION);
    assertThat(ModelRegistry.newest(registry.versions("feed-ranker"), ModelStage.STAGING))
        .isEmpty();

    // a candidate no run decided on
    commands().archive("c", "left by a crashed run");
    assertThat(registry.stage("c")).isEqualTo(ModelStage.ARCHIVED);
    assertThat(registry.stage("p1")).isEqualTo(ModelStage.PRODUCTION);
  }

  @Test
  void productionAndVersionsAlreadyDecidedAreNotArchived() {
    assertThatThrownBy(() -> commands().archive("p1", "by operator"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version p1 is in production and is not archived")
        .hasMessageContaining("registry promote")
        .hasMessageContaining("registry rollback");
    assertThatThrownBy(() -> commands().archive("r", "by operator"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("version r is REJECTED: only a STAGING or CANDIDATE one is archived");
    commands().archive("s", "by operator");
    assertThatThrownBy(() -> commands().archive("s", "by operator"))
        .hasMessage("version s is ARCHIVED: only a STAGING or CANDIDATE one is archived");
    assertThatThrownBy(() -> commands().archive("nope", "by operator"))
        .hasMessageContaining("no version 'nope'");
    assertThat(registry.published)
        .singleElement()
        .extracting(ModelVersion::getVersion)
        .isEqualTo("s");
    assertThat(registry.stage("p1")).isEqualTo(ModelStage.PRODUCTION);
  }
}
