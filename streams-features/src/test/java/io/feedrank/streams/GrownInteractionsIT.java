package io.feedrank.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * {@code interactions} grown from 2 to 4 partitions after the app first ran, against the real
 * broker. Kafka Streams 4.3.1 started on it anyway and stayed {@code REBALANCING}: at the first
 * rebalance its stream thread failed ("Existing internal topic ...-by-item-repartition has invalid
 * partitions: expected: 4; actual: 2") and was replaced, to fail again. The start is refused now,
 * before the client starts, naming both counts.
 */
@LocalStackTest
class GrownInteractionsIT {
  @Test
  void aStartAfterInteractionsGrewIsRefusedNamingBothCounts(LocalStack stack) throws Exception {
    FeaturesHarness h = new FeaturesHarness(stack, 2);
    h.publishSimulated(3, 50, 100, 500);
    FeaturesConfig config = h.config();
    try (Main.FeaturesApp app = Main.start(config)) {
      // a cold start (internal topics, global tables, the first rebalance) as the other ITs allow
      assertThat(h.trainingExamples(500, Duration.ofMinutes(2))).hasSize(500);
    }
    String id = h.applicationId;
    // as Kafka Streams names them, sorted as the message lists them
    List<String> internal =
        List.of(
            id + "-by-item-repartition",
            id + "-item-features-changelog",
            id + "-item-redis-pending-changelog",
            id + "-user-features-changelog",
            id + "-user-redis-pending-changelog",
            id + "-user-request-snapshots-changelog",
            id + "-validation-stream-time-changelog");

    try (Admin admin = stack.admin()) {
      // the first start created these, with interactions' count
      assertThat(partitions(admin, internal))
          .containsOnlyKeys(internal)
          .allSatisfy((t, n) -> assertThat(n).isEqualTo(2));
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
          .filteredOn(t -> t.startsWith(id + "-"))
          .containsExactlyInAnyOrderElementsOf(internal);

      admin
          .createPartitions(Map.of(h.topics.interactions(), NewPartitions.increaseTo(4)))
          .all()
          .get(30, TimeUnit.SECONDS);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  partitions(admin, List.of(h.topics.interactions())).get(h.topics.interactions())
                      == 4);
    }

    // closed again should it start, as it did
    assertThatThrownBy(() -> Main.start(config).close())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            h.topics.interactions()
                + " has 4 partitions, but the internal topics of application.id "
                + id
                + " were created with 2 partitions ("
                + String.join(", ", internal)
                + "):");
  }

  private static Map<String, Integer> partitions(Admin admin, List<String> topics)
      throws Exception {
    return admin
        .describeTopics(topics)
        .allTopicNames()
        .get(30, TimeUnit.SECONDS)
        .entrySet()
        .stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().partitions().size()));
  }
}
