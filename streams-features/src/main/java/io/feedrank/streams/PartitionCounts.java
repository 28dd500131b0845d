package io.feedrank.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;

/**
 * The check that {@code interactions} still has the partition count the app's internal topics were
 * created with. Kafka Streams creates the repartition topic and every changelog with the input's
 * partition count when an application id first runs, and keeps each user's state in the task of the
 * user's partition. On a topic grown since, Kafka Streams 4.3 fails the stream thread at the first
 * rebalance ("Existing internal topic ... has invalid partitions"); the thread is replaced and
 * fails the same way, and the client stays {@code REBALANCING}, processing nothing, its process
 * alive. Checked before the client starts, the start fails instead, saying both counts and what to
 * do.
 */
final class PartitionCounts {
  /** The longest a read of a topic's partition count ({@link #of}) may take. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The internal topics of {@code topology} that Kafka Streams creates with the input's partition
   * count, as it names them for {@code applicationId}: the changelog of each store and each
   * repartition topic of the stream subtopologies (the global stores have neither). A store kept
   * without a changelog is named too, and found absent.
   */
  static List<String> internalTopics(Topology topology, String applicationId, TopicNames topics) {
    Set<String> external =
        Set.of(
            topics.interactions(),
            topics.users(),
            topics.items(),
            topics.deadLetters(),
            topics.trainingExamples());
    Set<String> internal = new TreeSet<>();
    for (TopologyDescription.Subtopology s : topology.describe().subtopologies()) {
      for (TopologyDescription.Node n : s.nodes()) {
        if (n instanceof TopologyDescription.Processor p) {
          p.stores().forEach(store -> internal.add(applicationId + "-" + store + "-changelog"));
        } else if (n instanceof TopologyDescription.Source source && source.topicSet() != null) {
          source.topicSet().stream()
              .filter(t -> !external.contains(t))
              .forEach(t -> internal.add(applicationId + "-" + t));
        }
      }
    }
    return List.copyOf(internal);
  }

  /**
   * Refuses, with {@link #mismatch}'s message, internal topics of {@code applicationId} whose
   * partition count differs from {@code interactions}'. Topics that do not exist are not checked:
   * Kafka Streams creates the internal ones at a first start, and reports an absent input itself.
   *
   * @throws IllegalStateException on a mismatch, or when the counts could not be read (within the
   *     admin client's {@code default.api.timeout.ms})
   */
  static void refuseChanged(
      Admin admin, String applicationId, String interactions, List<String> internalTopics) {
    List<String> names = new ArrayList<>(internalTopics);
    names.add(interactions);
    Map<String, Integer> counts = new HashMap<>();
    try {
      for (var topic : admin.describeTopics(names).topicNameValues().entrySet()) {
        try {
          counts.put(topic.getKey(), topic.getValue().get().partitions().size());
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw new IllegalStateException(
                "could not read the partition count of "
                    + topic.getKey()
                    + ": "
                    + e.getCause().getMessage(),
                e.getCause());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the topics' partition counts", e);
    }
    Optional<String> mismatch = mismatch(applicationId, interactions, counts);
    if (mismatch.isPresent()) {
      throw new IllegalStateException(mismatch.get());
    }
  }

  /**
   * The partition count of {@code topic} now, or 0 when it does not exist; bounded by {@link
   * #READ_TIMEOUT}, as it is read in a stream thread, inside its transaction.
   *
   * @throws IllegalStateException when it could not be read
   */
  static int of(Admin admin, String topic) {
    try {
      return admin
          .describeTopics(
              List.of(topic), new DescribeTopicsOptions().timeoutMs((int) READ_TIMEOUT.toMillis()))
          .topicNameValues()
          .get(topic)
          .get()
          .partitions()
          .size();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return 0;
      }
      throw new IllegalStateException(
          "could not read the partition count of " + topic + ": " + e.getCause().getMessage(),
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while reading the partition count of " + topic, e);
    }
  }

  /**
   * What is wrong with the partition counts {@code counts} (topic → partitions, the topics that
   * exist): nothing unless {@code interactions} and another of them differ.
   */
  static Optional<String> mismatch(
      String applicationId, String interactions, Map<String, Integer> counts) {
    Integer partitions = counts.get(interactions);
    if (partitions == null) {
      return Optional.empty();
    }
    Map<Integer, Set<String>> others = new TreeMap<>();
    counts.forEach(
        (topic, n) -> {
          if (n.intValue() != partitions) {
            others.computeIfAbsent(n, k -> new TreeSet<>()).add(topic);
          }
        });
    if (others.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        interactions
            + " has "
            + partitions
            + " partitions, but the internal topics of application.id "
            + applicationId
            + " were created with "
            + others.entrySet().stream()
                .map(e -> e.getKey() + " partitions (" + String.join(", ", e.getValue()) + ")")
                .collect(Collectors.joining(" and "))
            + ": its state is partitioned as "
            + interactions
            + " was, and Kafka Streams would stop processing at the first rebalance. The"
            + " partition count of "
            + interactions
            + " is fixed for the life of an application.id: to change it, start a new one (README,"
            + " streams-features: \"Changing the partition count of interactions\")");
  }

  private PartitionCounts() {}
}
