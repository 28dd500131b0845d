package io.feedrank.avro;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics.TopicSpec;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ModelVersion;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void namesAreUniqueAndKebabCase() {
    List<String> names = Topics.ALL.stream().map(TopicSpec::name).toList();
    assertThat(names).doesNotHaveDuplicates().hasSize(11);
    assertThat(names).allMatch(n -> n.matches("[a-z]+(-[a-z]+)*"), "kebab-case");
  }

  @Test
  void everyNamedConstantIsInAll() {
    assertThat(Topics.ALL.stream().map(TopicSpec::name))
        .containsExactlyInAnyOrder(
            Topics.INTERACTIONS,
            Topics.USERS,
            Topics.ITEMS,
            Topics.INTERACTIONS_DLQ,
            Topics.TRAINING_EXAMPLES,
            Topics.RANKING_LOGS,
            Topics.DRIFT_REPORTS,
            Topics.ONLINE_CTR,
            Topics.ALERTS,
            Topics.RETRAIN_COMMANDS,
            Topics.MODEL_REGISTRY);
  }

  @Test
  void exactlyUsersItemsAndModelRegistryAreCompacted() {
    Set<String> compacted =
        Topics.ALL.stream()
            .filter(TopicSpec::compacted)
            .map(TopicSpec::name)
            .collect(Collectors.toSet());
    assertThat(compacted).containsExactlyInAnyOrder("users", "items", "model-registry");
  }

  @Test
  void byNameFindsEveryTopicAndNothingElse() {
    for (TopicSpec t : Topics.ALL) {
      assertThat(Topics.byName(t.name())).containsSame(t);
    }
    assertThat(Topics.byName("nope")).isEmpty();
    assertThat(Topics.byName("Interactions")).isEmpty();
  }

  @Test
  void withPartitionsKeepsSinglePartitionTopicsAtOne() {
    for (TopicSpec t : Topics.ALL) {
      TopicSpec scaled = t.withPartitions(48);
      if (t.partitions() == 1) {
        assertThat(scaled.partitions()).as(t.name()).isEqualTo(1);
      } else {
        assertThat(scaled.partitions()).as(t.name()).isEqualTo(48);
      }
      assertThat(scaled.name()).isEqualTo(t.name());
      assertThat(scaled.compacted()).isEqualTo(t.compacted());
      assertThat(scaled.valueType()).isEqualTo(t.valueType());
      assertThat(scaled.keyDescription()).isEqualTo(t.keyDescription());
    }
    assertThat(Topics.byName(Topics.ALERTS).orElseThrow().withPartitions(6).partitions())
        .isEqualTo(1);
    assertThat(Topics.byName(Topics.INTERACTIONS).orElseThrow().withPartitions(3).partitions())
        .isEqualTo(3);
  }

  @Test
  void topicsKeyedByUserIdAreCoPartitionedWithInteractions() {
    TopicSpec interactions = Topics.byName(Topics.INTERACTIONS).orElseThrow();
    TopicSpec examples = Topics.byName(Topics.TRAINING_EXAMPLES).orElseThrow();
    assertThat(interactions.partitions())
        .isEqualTo(examples.partitions())
        .isEqualTo(Topics.DEFAULT_INTERACTION_PARTITIONS);
    for (TopicSpec t : Topics.ALL) {
      if (t.keyDescription().startsWith("user_id")) {
        assertThat(t.partitions()).as(t.name()).isEqualTo(Topics.DEFAULT_INTERACTION_PARTITIONS);
      }
    }
  }

  @Test
  void subjectsSchemasAndRenaming() {
    TopicSpec interactions = Topics.byName(Topics.INTERACTIONS).orElseThrow();
    assertThat(interactions.valueType()).isEqualTo(InteractionEvent.class);
    assertThat(interactions.valueSubject()).isEqualTo("interactions-value");
    assertThat(interactions.valueSchema()).isEqualTo(InteractionEvent.getClassSchema());
    assertThat(Topics.byName(Topics.MODEL_REGISTRY).orElseThrow().valueType())
        .isEqualTo(ModelVersion.class);

    TopicSpec copy = interactions.renamed("interactions-test-1");
    assertThat(copy.name()).isEqualTo("interactions-test-1");
    assertThat(copy.valueSubject()).isEqualTo("interactions-test-1-value");
    assertThat(copy.partitions()).isEqualTo(interactions.partitions());
    assertThat(copy.valueType()).isEqualTo(interactions.valueType());
    assertThat(interactions.name()).isEqualTo("interactions");
  }

  @Test
  void everyValueTypeIsAGeneratedRecordWithItsOwnSchema() {
    for (TopicSpec t : Topics.ALL) {
      assertThat(t.valueSchema().getFullName())
          .as(t.name())
          .isEqualTo(t.valueType().getName())
          .startsWith("io.feedrank.events.");
    }
  }

  @Test
  void modelRegistryKeyIsNameAtVersion() {
    assertThat(Topics.modelRegistryKey("ranker", "v3")).isEqualTo("ranker@v3");
  }
}
