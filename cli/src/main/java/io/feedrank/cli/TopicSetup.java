package io.feedrank.cli;

import io.feedrank.avro.Topics.TopicSpec;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroSerdes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * What {@code ./feedrank topics init} does on a cluster of one's own: creates the missing topics of
 * DESIGN §2 with their partitions and cleanup policy, reports the ones that exist otherwise, and
 * registers every value schema under its subject with {@link AvroSerdes#COMPATIBILITY}. Existing
 * topics are never changed: a compacted topic made with delete, or the other way round, is reported
 * (and is an error), a partition count other than the DESIGN's is reported only. Nor is a subject's
 * compatibility weakened: see {@link #schemas}.
 */
final class TopicSetup {
  private TopicSetup() {}

  /**
   * The level earlier versions of {@code topics init} set on every subject: raised, as it is what
   * they left, not an operator's choice.
   */
  static final String EARLIER_COMPATIBILITY = "BACKWARD";

  /**
   * No compatibility check at all: raised too. On Apicurio it is what a subject without a rule of
   * its own reports (a serializer registered it before init ran), and setting NONE there deletes
   * the rule, so the two cannot be told apart; on Confluent it turns the checks off, which the
   * platform's readers cannot live with (they decode with the writer's schema and resolve to their
   * own, whatever the order of upgrades).
   */
  static final String NO_COMPATIBILITY = "NONE";

  /** One topic's outcome: created, as specified, or how it differs (an error when a policy). */
  record Outcome(
      String topic, int partitions, String cleanupPolicy, String status, boolean error) {}

  /** Creates what is missing of {@code specs} and reports every topic; see the class. */
  static List<Outcome> topics(
      Admin admin, List<TopicSpec> specs, int partitions, short replicationFactor)
      throws InterruptedException {
    List<Outcome> out = new ArrayList<>();
    try {
      Map<String, TopicDescription> existing = new HashMap<>();
      var names = specs.stream().map(TopicSpec::name).toList();
      var present = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      var found = names.stream().filter(present::contains).toList();
      if (!found.isEmpty()) {
        existing.putAll(admin.describeTopics(found).allTopicNames().get(30, TimeUnit.SECONDS));
      }
      Map<String, String> policies = cleanupPolicies(admin, found);
      for (TopicSpec spec : specs) {
        TopicSpec t = partitions > 0 ? spec.withPartitions(partitions) : spec;
        String policy = policy(t);
        TopicDescription d = existing.get(t.name());
        if (d == null) {
          out.add(create(admin, t, policy, replicationFactor));
          continue;
        }
        int has = d.partitions().size();
        String hasPolicy = policies.get(t.name());
        List<String> differs = new ArrayList<>();
        boolean error = false;
        if (!policy.equals(hasPolicy)) {
          differs.add("cleanup.policy " + hasPolicy + ", not " + policy);
          error = true;
        }
        if (has != t.partitions()) {
          differs.add(has + " partitions, not " + t.partitions() + " (left as it is)");
        }
        out.add(
            new Outcome(
                t.name(),
                has,
                hasPolicy,
                differs.isEmpty() ? "exists" : "exists: " + String.join("; ", differs),
                error));
      }
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Kafka did not answer within 30 s: cannot read or create the topics", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot read or create the topics: " + cause(e), e);
    }
    return out;
  }

  /** One value subject's outcome: the compatibility level it has now, and why. */
  record SchemaOutcome(String subject, String compatibility, String status) {}

  /**
   * Gives the value subject of every one of {@code specs} {@link AvroSerdes#COMPATIBILITY} when it
   * has no level of its own, {@link #NO_COMPATIBILITY} or {@link #EARLIER_COMPATIBILITY}, and
   * registers its schema. Any other level (FORWARD, FULL, ...) is left as it is and reported:
   * someone chose it (an operator, for a migration or a policy of their own), and init is run again
   * after every upgrade.
   */
  static List<SchemaOutcome> schemas(SchemaRegistryClient registry, List<TopicSpec> specs) {
    String level = AvroSerdes.COMPATIBILITY;
    List<SchemaOutcome> out = new ArrayList<>();
    for (TopicSpec t : specs) {
      String subject = t.valueSubject();
      Optional<String> has = registry.compatibility(subject);
      SchemaOutcome o;
      if (has.isEmpty()) {
        registry.setCompatibility(subject, level);
        o = new SchemaOutcome(subject, level, "set");
      } else if (has.get().equalsIgnoreCase(level)) {
        o = new SchemaOutcome(subject, has.get(), "as specified");
      } else if (has.get().equalsIgnoreCase(EARLIER_COMPATIBILITY)
          || has.get().equalsIgnoreCase(NO_COMPATIBILITY)) {
        registry.setCompatibility(subject, level);
        o = new SchemaOutcome(subject, level, "raised from " + has.get());
      } else {
        o = new SchemaOutcome(subject, has.get(), "left as it is, not " + level);
      }
      registry.register(subject, t.valueSchema());
      out.add(o);
    }
    return out;
  }

  private static Outcome create(Admin admin, TopicSpec t, String policy, short replicationFactor)
      throws InterruptedException, TimeoutException {
    NewTopic n =
        new NewTopic(
                t.name(),
                Optional.of(t.partitions()),
                replicationFactor > 0 ? Optional.of(replicationFactor) : Optional.empty())
            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, policy));
    try {
      admin.createTopics(List.of(n)).all().get(30, TimeUnit.SECONDS);
      return new Outcome(t.name(), t.partitions(), policy, "created", false);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        // made meanwhile by someone else: what it is, is theirs
        return new Outcome(t.name(), t.partitions(), policy, "exists (created meanwhile)", false);
      }
      throw new IllegalStateException("cannot create " + t.name() + ": " + cause(e), e);
    }
  }

  private static Map<String, String> cleanupPolicies(Admin admin, List<String> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<String, String> out = new HashMap<>();
    if (topics.isEmpty()) {
      return out;
    }
    List<ConfigResource> resources =
        topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
    Map<ConfigResource, Config> configs =
        admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
    configs.forEach((r, c) -> out.put(r.name(), c.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()));
    return out;
  }

  private static String policy(TopicSpec t) {
    return t.compacted() ? TopicConfig.CLEANUP_POLICY_COMPACT : TopicConfig.CLEANUP_POLICY_DELETE;
  }

  private static String cause(Exception e) {
    return String.valueOf(e.getCause() != null ? e.getCause() : e);
  }
}
