package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.registry.InMemorySchemaRegistryClient;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.topology.FeatureTopology;
import io.feedrank.streams.validation.EventValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.Topology;
import org.junit.jupiter.api.Test;

class PartitionCountsTest {
  static final TopicNames TOPICS = TopicNames.defaults().withSuffix("-t");

  @Test
  void namesTheRepartitionTopicAndTheChangelogOfEveryStoreOfTheStreamSide() {
    Topology topology =
        FeatureTopology.build(
            TOPICS,
            new FeatureTopology.Settings(
                "app",
                new EventValidator(Duration.ofHours(1), Duration.ofDays(7)),
                Duration.ofMillis(100)),
            batch -> {},
            new InMemorySchemaRegistryClient(),
            new FeatureMetrics(new SimpleMeterRegistry()));

    // Kafka Streams' names: <application.id>-<store>-changelog,
    // <application.id>-<name>-repartition;
    // the global stores (items, users) have no changelog: their topics are their source
    assertThat(PartitionCounts.internalTopics(topology, "app", TOPICS))
        .containsExactly(
            "app-by-item-repartition",
            "app-item-features-changelog",
            "app-item-redis-pending-changelog",
            "app-user-features-changelog",
            "app-user-redis-pending-changelog",
            "app-user-request-snapshots-changelog",
            "app-validation-stream-time-changelog");
  }

  @Test
  void findsNothingWrongWhenTheCountsAgreeOrTheInternalTopicsAreYetToBeCreated() {
    assertThat(
            PartitionCounts.mismatch(
                "app",
                "interactions",
                Map.of("interactions", 12, "app-user-features-changelog", 12)))
        .isEmpty();
    assertThat(PartitionCounts.mismatch("app", "interactions", Map.of("interactions", 12)))
        .isEmpty();
    // an absent input is Kafka Streams' to report
    assertThat(
            PartitionCounts.mismatch("app", "interactions", Map.of("app-by-item-repartition", 12)))
        .isEmpty();
  }

  @Test
  void namesBothCountsAndEveryTopicCreatedWithAnother() {
    assertThat(
            PartitionCounts.mismatch(
                "app",
                "interactions",
                Map.of(
                    "interactions", 24,
                    "app-user-features-changelog", 12,
                    "app-by-item-repartition", 12,
                    "app-item-features-changelog", 24,
                    "app-validation-stream-time-changelog", 6)))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .startsWith(
                        "interactions has 24 partitions, but the internal topics of application.id"
                            + " app were created with 6 partitions"
                            + " (app-validation-stream-time-changelog) and 12 partitions"
                            + " (app-by-item-repartition, app-user-features-changelog):")
                    .doesNotContain("app-item-features-changelog")
                    .contains("Changing the partition count of interactions"));
  }
}
